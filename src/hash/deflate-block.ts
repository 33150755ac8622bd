// One block of a pigz-style gzip stream, deflated the same way on any thread (a pool worker or,
// for a small layer, the caller's), so the stream's bytes depend only on the input.
import { constants, crc32, deflateRawSync } from 'node:zlib';
import type { DeflatedBlock } from './types.js';

/** Bytes sampled to tell an incompressible block (random data, already-compressed files). */
const SAMPLE = 64 * 1024;

/**
 * Raw deflate of `data`, primed with `dict` (the 32 KiB before it), ended by a sync flush (byte
 * aligned, not final) or, for the last block, the final block. A block whose sample does not
 * shrink is stored (level 0): zlib spends ~20 ns a byte failing to compress random data. The
 * crc32 of the input comes back too (the caller's thread only combines them).
 */
export function deflateBlock(t: { data: ArrayBuffer | Uint8Array; dict: ArrayBuffer | Uint8Array | null; last: boolean; level: number }): DeflatedBlock {
  const data = t.data instanceof Uint8Array ? t.data : new Uint8Array(t.data);
  const dict = t.dict ? (t.dict instanceof Uint8Array ? t.dict : new Uint8Array(t.dict)) : undefined;
  const sample = data.subarray(0, Math.min(SAMPLE, data.length));
  const incompressible = sample.length >= 4096 && deflateRawSync(sample, { level: 1 }).length > sample.length * 0.97;
  const out = deflateRawSync(data, {
    level: incompressible ? 0 : t.level,
    ...(dict && dict.length ? { dictionary: dict } : {}),
    finishFlush: t.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
  });
  // An ArrayBuffer of exactly the output, transferable back to the caller (zlib's own when it is one).
  if (out.byteOffset === 0 && out.buffer.byteLength === out.length && out.buffer instanceof ArrayBuffer) return { out: out.buffer, crc: crc32(data) };
  const copy = new Uint8Array(out.length);
  copy.set(out);
  return { out: copy.buffer, crc: crc32(data) };
}
