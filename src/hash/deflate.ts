// gzip as pigz makes it: the input cut into fixed blocks, each deflated on its own (in the pool's
// workers, so a big layer uses every core), primed with the 32 KiB before it and ended by a sync
// flush, the raw streams joined into one gzip member. The bytes depend only on the input, the
// level and the block size, never on the number of threads: the same layer always gives the
// same digest. A layer of one block is deflated on the calling thread (no worker start-up).
import { crc32 } from 'node:zlib';
import { deflateBlock } from './deflate-block.js';

export const GZIP_BLOCK = 1024 * 1024;
const WINDOW = 32 * 1024;
/** mtime 0, no name, OS "unknown" (255): nothing of this machine or moment in the bytes. */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

export interface GzipOptions {
  level?: number;
  blockSize?: number;
  /** Deflate every block on this thread (tests compare it with the pool's output). */
  inline?: boolean;
}

/** Fixed-size blocks, each with its own ArrayBuffer (so it can be transferred to a worker). */
async function* blocks(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer<ArrayBuffer>> {
  let block = Buffer.allocUnsafeSlow(size);
  let used = 0;
  for await (const chunk of source) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(size - used, chunk.length - off);
      block.set(chunk.subarray(off, off + n), used);
      used += n;
      off += n;
      if (used === size) {
        yield block;
        block = Buffer.allocUnsafeSlow(size);
        used = 0;
      }
    }
  }
  if (used > 0) yield Buffer.from(block.buffer.slice(0, used)) as Buffer<ArrayBuffer>;
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
  const it = blocks(source, size);
  yield HEADER;
  let crc = 0;
  let total = 0;
  let cur = await it.next();
  if (cur.done) {
    yield Buffer.from(deflateBlock({ data: new Uint8Array(0), dict: null, last: true, level }));
    yield trailer(0, 0);
    return;
  }
  let next = await it.next();
  const pool = o.inline || next.done ? undefined : await import('./pool.js');
  const inFlight = pool ? pool.poolThreads() * 2 + 1 : 1;
  const pending: Promise<ArrayBuffer>[] = [];
  let tail: Uint8Array<ArrayBuffer> | null = null;
  while (!cur.done) {
    const data: Buffer<ArrayBuffer> = cur.value;
    const last = !!next.done;
    crc = crc32(data, crc);
    total += data.length;
    const dict = tail ? tail.buffer : null;
    // A copy with its own ArrayBuffer: `data`'s is transferred to a worker below.
    tail = new Uint8Array(data.subarray(Math.max(0, data.length - WINDOW)));
    const task = { data: data.buffer, dict, last, level };
    const done = pool ? pool.deflateInPool(task) : Promise.resolve(deflateBlock(task));
    done.catch(() => undefined); // awaited below; a consumer that stops early must not leave it unhandled
    pending.push(done);
    while (pending.length >= inFlight) yield Buffer.from(await pending.shift()!);
    cur = next;
    if (!next.done) next = await it.next();
  }
  while (pending.length) yield Buffer.from(await pending.shift()!);
  yield trailer(crc, total);
}
