// gzip as pigz makes it: the input cut into fixed blocks, each deflated on its own (in the pool's
// workers, so a big layer uses every core), primed with the 32 KiB before it and ended by a sync
// flush, the raw streams joined into one gzip member. The bytes depend only on the input, the
// level and the block size, never on the number of threads: the same layer always gives the
// same digest. A layer of one block is deflated on the calling thread (no worker start-up).
import { deflateBlock, storedSize } from './deflate-block.js';
import type { DeflatedBlock } from './types.js';

export const GZIP_BLOCK = 1024 * 1024;
const WINDOW = 32 * 1024;
/** mtime 0, no name, OS "unknown" (255): nothing of this machine or moment in the bytes. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

export interface GzipOptions {
  level?: number;
  blockSize?: number;
  /** Deflate every block on this thread (tests compare it with the pool's output). */
  inline?: boolean;
  /**
   * The source's chunks are handed over (fresh buffers nobody else keeps, as a layer's rebuilt
   * tar yields): a chunk that is exactly one block with an ArrayBuffer of its own goes to a
   * worker as it is (transferred, so detached here) instead of being copied.
   */
  adopt?: boolean;
  /**
   * Given each handed-over chunk's memory back once its block is deflated (with `adopt`): the
   * source can fill it again instead of allocating (fresh memory costs a page fault per 4 KiB).
   */
  recycle?: (buffer: ArrayBuffer) => void;
  /**
   * Memory for stored (incompressible) blocks' output: a block that is stored is written into
   * one of these (moved to the worker and back as the yielded buffer) when one is big enough.
   * The consumer adds the memory of yielded buffers it is done with (after the upload).
   */
  outputs?: ArrayBuffer[];
}

/** A block of the stream: its own ArrayBuffer (transferable to a worker), and whose it is. */
interface Block {
  data: Buffer<ArrayBuffer>;
  /** The source's chunk, handed over (adopt): given back to it through `recycle`. */
  adopted: boolean;
}

/**
 * Fixed-size blocks. Those copied together here are cut from `spare` (the buffers the workers
 * gave back) when it has one, so a long stream cycles through a few blocks of memory.
 */
async function* blocks(source: AsyncIterable<Uint8Array>, size: number, adopt: boolean, spare: ArrayBuffer[]): AsyncGenerator<Block> {
  const fresh = () => {
    const b = spare.pop();
    return b && b.byteLength === size ? Buffer.from(b) : Buffer.allocUnsafeSlow(size);
  };
  let block = fresh();
  let used = 0;
  for await (const chunk of source) {
    if (adopt && used === 0 && chunk.length === size && chunk.byteOffset === 0 && chunk.buffer instanceof ArrayBuffer && chunk.buffer.byteLength === size) {
      yield { data: Buffer.from(chunk.buffer), adopted: true };
      continue;
    }
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(size - used, chunk.length - off);
      block.set(chunk.subarray(off, off + n), used);
      used += n;
      off += n;
      if (used === size) {
        yield { data: block, adopted: false };
        block = fresh();
        used = 0;
      }
    }
  }
  if (used > 0) yield { data: Buffer.from(block.buffer.slice(0, used)) as Buffer<ArrayBuffer>, adopted: false };
}

/** 32×32 bit matrices over GF(2), as zlib's crc32_combine. */
function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i];
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(mat, mat[n]);
}

/** The crc32 of A followed by B, from crc32(A), crc32(B) and B's length (zlib's crc32_combine). */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320;
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  gf2Square(even, odd);
  gf2Square(odd, even);
  let c = crc1 >>> 0;
  for (;;) {
    gf2Square(even, odd);
    if (len2 % 2) c = gf2Times(even, c);
    len2 = Math.floor(len2 / 2);
    if (len2 === 0) break;
    gf2Square(odd, even);
    if (len2 % 2) c = gf2Times(odd, c);
    len2 = Math.floor(len2 / 2);
    if (len2 === 0) break;
  }
  return (c ^ crc2) >>> 0;
}

function trailer(crc: number, size: number): Buffer {
  const t = Buffer.alloc(8);
  t.writeUInt32LE(crc >>> 0, 0);
  t.writeUInt32LE(size % 2 ** 32, 4);
  return t;
}

/** The gzip stream of `source`, compressed block by block (see the top of this file). */
export async function* gzipBlocks(source: AsyncIterable<Uint8Array>, o: GzipOptions = {}): AsyncGenerator<Buffer> {
  const level = o.level ?? 6;
  const size = o.blockSize ?? GZIP_BLOCK;
  const spare: ArrayBuffer[] = [];
  const it = blocks(source, size, !!o.adopt, spare);
  yield HEADER;
  let crc = 0;
  let total = 0;
  let cur = await it.next();
  if (cur.done) {
    yield Buffer.from(deflateBlock({ data: new Uint8Array(0), dict: null, last: true, level }).out);
    yield trailer(0, 0);
    return;
  }
  let next = await it.next();
  const pool = o.inline || next.done ? undefined : await import('./pool.js');
  const inFlight = pool ? pool.poolThreads() * 2 + 1 : 1;
  const pending: { done: Promise<DeflatedBlock>; length: number; adopted: boolean }[] = [];
  // Each block's crc32 is computed beside its deflate; here they are only combined, in order.
  const take = async () => {
    const p = pending.shift()!;
    const { out, length, crc: c, data, spare: unused } = await p.done;
    crc = crc32Combine(crc, c, p.length);
    // The input's memory, moved back by the worker: the source's to refill, else ours.
    if (data && data.byteLength === size && pool) {
      if (p.adopted) o.recycle?.(data);
      else if (spare.length < inFlight) spare.push(data);
    }
    if (unused) o.outputs?.push(unused);
    return Buffer.from(out, 0, length ?? out.byteLength);
  };
  const target = () => {
    const outputs = o.outputs;
    if (!pool || !outputs) return undefined;
    const i = outputs.findIndex((b) => b.byteLength >= storedSize(size));
    return i < 0 ? undefined : outputs.splice(i, 1)[0];
  };
  let tail: Uint8Array<ArrayBuffer> | null = null;
  while (!cur.done) {
    const { data, adopted } = cur.value;
    const last = !!next.done;
    const length = data.length; // before the transfer below empties `data`
    total += length;
    const dict = tail ? tail.buffer : null;
    // A copy with its own ArrayBuffer: `data`'s is transferred to a worker below.
    tail = new Uint8Array(data.subarray(Math.max(0, data.length - WINDOW)));
    const done = pool ? pool.deflateInPool({ data: data.buffer, dict, last, level, target: target() }) : Promise.resolve(deflateBlock({ data: data.buffer, dict, last, level }));
    done.catch(() => undefined); // awaited below; a consumer that stops early must not leave it unhandled
    pending.push({ done, length, adopted });
    while (pending.length >= inFlight) yield await take();
    cur = next;
    if (!next.done) next = await it.next();
  }
  while (pending.length) yield await take();
  yield trailer(crc, total);
}
