// One block of a pigz-style gzip stream, deflated the same way on any thread (a pool worker or,
// for a small layer, the caller's), so the stream's bytes depend only on the input.
import { constants, crc32, deflateRawSync } from 'node:zlib';
import type { DeflatedBlock } from './types.js';

/** Bytes sampled, spread evenly over the block, to tell an incompressible one. */
const SAMPLE = 64 * 1024;
/**
 * Order-0 entropy (bits a byte) above which a block is stored: Huffman coding of its bytes
 * could save under 2%. Random data measures ~7.99 on a full sample, text 4-5, machine code ~6.
 */
const STORED_ENTROPY = 7.84;
/** The largest stored deflate block (its length is 16 bits). */
const STORED_MAX = 65535;

/**
 * Random or already compressed data (a block of a layer holding .gz, .jpg, encrypted files):
 * zlib spends ~20 ns a byte failing to compress it, this sample costs ~0.1 ms a MiB. A block
 * whose bytes look random but repeat within 32 KiB (rare) is stored too: a few % of size, never
 * correctness.
 */
export function looksIncompressible(data: Uint8Array): boolean {
  if (data.length < 4096) return false;
  const counts = new Uint32Array(256);
  const step = Math.max(1, Math.floor(data.length / SAMPLE));
  let n = 0;
  for (let i = 0; i < data.length; i += step, n++) counts[data[i]]++;
  let bits = 0;
  for (let b = 0; b < 256; b++) if (counts[b]) bits -= counts[b] * Math.log2(counts[b] / n);
  return bits / n > STORED_ENTROPY;
}

/** Bytes of `n` bytes as stored blocks. */
export function storedSize(n: number): number {
  return n + 5 * Math.max(1, Math.ceil(n / STORED_MAX));
}

/**
 * `data` as raw deflate stored blocks (RFC 1951 3.2.4): each up to 65535 bytes behind a byte
 * for BFINAL/BTYPE, LEN and NLEN. It starts and ends on a byte boundary, as the blocks around
 * it (a sync flush ends every other block), so it needs no flush marker of its own.
 */
export function storedBlocks(data: Uint8Array, last: boolean, target?: ArrayBuffer): Uint8Array<ArrayBuffer> {
  const pieces = Math.max(1, Math.ceil(data.length / STORED_MAX));
  const size = storedSize(data.length);
  const out = target && target.byteLength >= size ? new Uint8Array(target, 0, size) : new Uint8Array(size);
  let o = 0;
  for (let i = 0, off = 0; i < pieces; i++) {
    const len = Math.min(STORED_MAX, data.length - off);
    out[o] = last && i === pieces - 1 ? 1 : 0;
    out[o + 1] = len & 0xff;
    out[o + 2] = len >>> 8;
    out[o + 3] = ~len & 0xff;
    out[o + 4] = (~len >>> 8) & 0xff;
    out.set(data.subarray(off, off + len), o + 5);
    o += 5 + len;
    off += len;
  }
  return out;
}

/**
 * Raw deflate of `data`, primed with `dict` (the 32 KiB before it), ended by a sync flush (byte
 * aligned, not final) or, for the last block, the final block; an incompressible block is
 * stored as it is. The crc32 of the input comes back too (the caller's thread only combines them).
 */
export function deflateBlock(t: { data: ArrayBuffer | Uint8Array; dict: ArrayBuffer | Uint8Array | null; last: boolean; level: number; target?: ArrayBuffer }): DeflatedBlock {
  const data = t.data instanceof Uint8Array ? t.data : new Uint8Array(t.data);
  const crc = crc32(data);
  if (looksIncompressible(data)) {
    const stored = storedBlocks(data, t.last, t.target);
    return { out: stored.buffer, length: stored.length, crc };
  }
  const spare = t.target ? { spare: t.target } : {};
  const dict = t.dict ? (t.dict instanceof Uint8Array ? t.dict : new Uint8Array(t.dict)) : undefined;
  const out = deflateRawSync(data, {
    level: t.level,
    ...(dict && dict.length ? { dictionary: dict } : {}),
    finishFlush: t.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
  });
  // An ArrayBuffer of exactly the output, transferable back to the caller (zlib's own when it is one).
  if (out.byteOffset === 0 && out.buffer.byteLength === out.length && out.buffer instanceof ArrayBuffer) return { out: out.buffer, crc, ...spare };
  const copy = new Uint8Array(out.length);
  copy.set(out);
  return { out: copy.buffer, crc, ...spare };
}
