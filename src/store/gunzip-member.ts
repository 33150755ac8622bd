// A gzip blob inflated without the check of its trailer's crc32, for a layer whose whole tar is
// hashed against its diff_id (sha256) before it is used: the crc32 is a second, weaker check of
// the same bytes, and zlib's pass over them was ~4% of the CPU of the first run of a pulled
// 256 MiB image. One member only (registries' layers have one: Go's, pigz's and strata's own
// gzip write one); a blob with another member, or anything after its member, or a header this
// does not read throws NotOneMember, and the caller reads it the checked way (decompress.ts).
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { StrataError } from '../errors.js';
import { capped, decompressed } from './decompress.js';

export class NotOneMember extends Error {
  constructor() {
    super('not a single gzip member');
  }
}

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/** Bytes of the gzip member header at the start of `b`, or undefined while `b` is too short to tell. */
export function headerLength(b: Buffer): number | undefined {
  if (b.length < 10) return undefined;
  if (b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8 || b[3] & 0xe0) throw new NotOneMember();
  const flags = b[3];
  let at = 10;
  if (flags & FEXTRA) {
    if (b.length < at + 2) return undefined;
    at += 2 + b.readUInt16LE(at);
  }
  for (const f of [FNAME, FCOMMENT]) {
    if (!(flags & f)) continue;
    const zero = b.indexOf(0, at);
    if (zero < 0) return undefined;
    at = zero + 1;
  }
  if (flags & FHCRC) at += 2;
  return b.length < at ? undefined : at;
}

/**
 * The content of the gzip blob `source` (`size` bytes, one member), inflated in libuv's pool,
 * 1 MiB per call; bounded by `maxBytes`. Throws NotOneMember (at the first chunk, or after the
 * last) when the blob is not one member followed by its 8-byte trailer alone.
 */
export async function* inflateMember(source: AsyncIterable<Buffer>, size: number, maxBytes = 64 * 1024 ** 3): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  try {
    let head: Buffer = Buffer.alloc(0);
    let skip: number | undefined;
    while ((skip = headerLength(head)) === undefined) {
      const r = await it.next();
      if (r.done) throw new NotOneMember();
      head = head.length ? Buffer.concat([head, r.value]) : r.value;
    }
    const from = skip;
    const body = (async function* () {
      yield head.subarray(from);
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    })();
    const { createInflateRaw } = await import('node:zlib');
    const raw = createInflateRaw({ chunkSize: 1024 * 1024 });
    pipeline(Readable.from(body), raw, () => undefined); // errors surface through raw's iterator
    yield* capped(raw, maxBytes);
    // The deflate stream ended: what it did not take must be its trailer (crc32, size) and no more.
    if (from + raw.bytesWritten + 8 !== size) throw new NotOneMember();
  } finally {
    await it.return?.(); // the blob's file is closed however this ends
  }
}

/**
 * Runs `use` on the content of the compressed blob `file` (of `mediaType`), which `use` checks
 * against a digest of its own: a gzip of one member through inflateMember, anything else (or a
 * gzip of more members, then read again) decompressed with every check.
 */
export async function withBlobContent<T>(file: string, mediaType: string, maxBytes: number | undefined, use: (content: AsyncIterable<Buffer>) => Promise<T>): Promise<T> {
  const read = () => createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
  if (/gzip$/.test(mediaType)) {
    const { size } = await fs.stat(file);
    try {
      return await use(inflateMember(read(), size, maxBytes));
    } catch (err) {
      if (!(err instanceof NotOneMember)) throw err;
    }
  }
  return use(decompressed(read(), maxBytes));
}
