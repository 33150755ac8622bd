// What it takes, beside a layer's snapshot, to rebuild the layer's tar byte for byte (as
// containers/storage keeps a tar-split beside each layer): every byte of the tar that is not
// file content, verbatim (headers, PAX records, padding, the end blocks and whatever follows
// them), and for each file entry a reference to its content in the snapshot (path, size,
// crc32). File layout, `layers/<hex>.tar-split`:
//
//   gzip(records) ‖ extras ‖ trailer JSON ‖ u32le trailer length ‖ MAGIC
//
// records: 'V' varint n, n bytes (verbatim) · 'Z' varint n (n zero bytes) · 'F' varint size,
// u32le crc32, varint n, n bytes of path (content of the snapshot's file at that path).
// extras: the content of file entries that a later entry of the same tar replaced or removed
// (a tar may name a path twice): the snapshot no longer holds it, so it is kept here.
// The trailer closes the file: a truncated tar-split is recognised as such.
import fs from 'node:fs/promises';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Gzip } from 'node:zlib';
import { StrataError } from '../errors.js';
import { tempName } from './fsutil.js';
import type { Digest } from './types.js';

const MAGIC = Buffer.from('strata-tarsplit1');
const TAIL = MAGIC.length + 4;
const V = 0x56;
const Z = 0x5a;
const F = 0x46;
const FLUSH_AT = 64 * 1024;

/** Where a file entry's content comes from when the tar is rebuilt. */
export interface SplitFile {
  /** Ordinal of the file record (0-based): extras are keyed by it. */
  index: number;
  path: string;
  size: number;
  crc: number;
}

/** A compressed blob the layer came from (a pulled image's), from which its snapshot can be re-made. */
export interface SplitSource {
  digest: Digest;
  mediaType: string;
}

export interface SplitTrailer {
  v: 1;
  diffId: Digest;
  /** Bytes of the tar. */
  size: number;
  /** File records. */
  files: number;
  /** Bytes of the gzip'ed records at the start of the file. */
  records: number;
  /** [file index, offset in this file, length] of content kept here instead of in the snapshot. */
  extras: [number, number, number][];
  source?: SplitSource;
}

/** Receives a tar stream's bytes in order, as verbatim bytes or as file content kept elsewhere. */
export interface TarTap {
  verbatim(bytes: Uint8Array): void;
  /** A file entry's content (`size` bytes, crc32 `crc`) is kept at `path` in the snapshot. */
  file(path: string, size: number, crc: number): void;
}

export function crc32(data: Uint8Array, prev = 0): number {
  return process.getBuiltinModule('node:zlib').crc32(data, prev);
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Writes a tar-split to a temp file; finish() closes it with its trailer. */
export class SplitWriter implements TarTap {
  private readonly gz: Gzip;
  private readonly out: WriteStream;
  private readonly done: Promise<void>;
  private buf = Buffer.allocUnsafe(FLUSH_AT + 1024);
  private used = 0;
  private size = 0;
  private files = 0;
  private readonly aside: { index: number; file: string; size: number }[] = [];

  private constructor(readonly path: string, private readonly tmpDir: string) {
    const { createGzip } = process.getBuiltinModule('node:zlib');
    this.gz = createGzip({ level: 6 });
    const out = createWriteStream(path, { flags: 'wx', mode: 0o644 });
    this.out = out;
    this.done = new Promise((resolve, reject) => {
      out.once('finish', resolve).once('error', reject).once('close', () => reject(new Error('tar-split output closed early')));
      this.gz.once('error', reject);
    });
    this.done.catch(() => undefined); // reported by finish()
    this.gz.pipe(out);
  }

  /** A writer whose file is a temp name in `tmpDir` (same filesystem as the layers). */
  static create(tmpDir: string): SplitWriter {
    return new SplitWriter(tempName(tmpDir, '.tar-split'), tmpDir);
  }

  /** Bytes of tar described so far. */
  get bytes(): number {
    return this.size;
  }

  private room(n: number): void {
    if (this.used + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  private varint(n: number): void {
    this.room(10);
    while (n >= 0x80) {
      this.buf[this.used++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.used++] = n;
  }

  private flush(): void {
    if (this.used === 0) return;
    this.gz.write(Buffer.from(this.buf.subarray(0, this.used)));
    this.used = 0;
  }

  verbatim(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.size += bytes.length;
    if (bytes.length >= 32 && isZero(bytes)) {
      this.room(1);
      this.buf[this.used++] = Z;
      this.varint(bytes.length);
      return;
    }
    this.room(1);
    this.buf[this.used++] = V;
    this.varint(bytes.length);
    this.room(bytes.length);
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
    if (this.used >= FLUSH_AT) this.flush();
  }

  file(path: string, size: number, crc: number): void {
    const name = Buffer.from(path);
    this.size += size;
    this.files++;
    this.room(1);
    this.buf[this.used++] = F;
    this.varint(size);
    this.room(4);
    this.buf.writeUInt32LE(crc >>> 0, this.used);
    this.used += 4;
    this.varint(name.length);
    this.room(name.length);
    this.buf.set(name, this.used);
    this.used += name.length;
    if (this.used >= FLUSH_AT) this.flush();
  }

  /** Index the next file record will get. */
  get nextIndex(): number {
    return this.files;
  }

  /**
   * File record `index` (content at `abs`, `size` bytes) is about to be replaced or removed in
   * the snapshot: its content moves here (a rename) and is appended to the tar-split at the end.
   */
  async keepAside(index: number, abs: string, size: number): Promise<void> {
    const file = tempName(this.tmpDir, '.aside');
    await fs.rename(abs, file);
    this.aside.push({ index, file, size });
  }

  /** True while compressed output is queued: the caller should await drained(). */
  get congested(): boolean {
    return this.gz.writableLength > 1024 * 1024;
  }

  async drained(): Promise<void> {
    if (!this.congested) return;
    await new Promise<void>((resolve) => this.gz.once('drain', resolve));
  }

  /** Ends the records, appends extras and the trailer, fsyncs. Returns the trailer. */
  async finish(meta: { diffId: Digest; source?: SplitSource }): Promise<SplitTrailer> {
    this.flush();
    this.gz.end();
    await this.done;
    const fh = await fs.open(this.path, 'r+');
    try {
      let offset = (await fh.stat()).size;
      const trailer: SplitTrailer = { v: 1, diffId: meta.diffId, size: this.size, files: this.files, records: offset, extras: [], source: meta.source };
      for (const a of this.aside) {
        const data = await fs.readFile(a.file);
        if (data.length !== a.size) throw new StrataError(`layer "${meta.diffId}": a replaced entry's content changed size while it was kept`);
        await fh.write(data, 0, data.length, offset);
        trailer.extras.push([a.index, offset, data.length]);
        offset += data.length;
      }
      const json = Buffer.from(JSON.stringify(trailer));
      const len = Buffer.alloc(4);
      len.writeUInt32LE(json.length);
      await fh.write(Buffer.concat([json, len, MAGIC]), 0, json.length + TAIL, offset);
      await fh.sync();
      return trailer;
    } finally {
      await fh.close();
      await this.removeAside();
    }
  }

  /** Drops the temp file and anything kept aside. */
  async abort(): Promise<void> {
    this.gz.destroy();
    if (!this.out.closed) {
      const closed = new Promise<void>((resolve) => this.out.once('close', () => resolve()));
      this.out.destroy();
      await closed;
    }
    await fs.rm(this.path, { force: true });
    await this.removeAside();
  }

  private async removeAside(): Promise<void> {
    for (const a of this.aside.splice(0)) await fs.rm(a.file, { force: true });
  }
}

/** Why a tar-split cannot be read; the caller names the layer. */
export class SplitError extends Error {}

/** The trailer of a tar-split file; throws SplitError when the file is truncated or not one. */
export async function readTrailer(file: string): Promise<SplitTrailer> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size < TAIL) throw new SplitError('tar-split file is truncated');
    const tail = Buffer.alloc(TAIL);
    await fh.read(tail, 0, TAIL, size - TAIL);
    if (!tail.subarray(4).equals(MAGIC)) throw new SplitError('tar-split file is truncated or not a tar-split');
    const len = tail.readUInt32LE(0);
    if (len > size - TAIL) throw new SplitError('tar-split trailer is damaged');
    const json = Buffer.alloc(len);
    await fh.read(json, 0, len, size - TAIL - len);
    let t: SplitTrailer;
    try {
      t = JSON.parse(json.toString('utf8')) as SplitTrailer;
    } catch {
      throw new SplitError('tar-split trailer is not valid JSON');
    }
    const ok = t.v === 1 && Number.isSafeInteger(t.size) && Number.isSafeInteger(t.records) && t.records <= size && Array.isArray(t.extras);
    if (!ok) throw new SplitError('tar-split trailer is damaged');
    return t;
  } finally {
    await fh.close();
  }
}

export type SplitRecord = { kind: 'bytes'; data: Buffer } | { kind: 'zeros'; size: number } | ({ kind: 'file' } & SplitFile);

/** Pulls bytes out of the gunzip'ed records. */
class RecordSource {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  constructor(src: AsyncIterable<Buffer>) {
    this.it = src[Symbol.asyncIterator]();
  }

  async need(n: number): Promise<boolean> {
    while (this.buf.length < n) {
      const r = await this.it.next();
      if (r.done) {
        if (this.buf.length === 0) return false;
        throw new SplitError('tar-split records are truncated');
      }
      this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    }
    return true;
  }

  take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  async varint(): Promise<number> {
    let n = 0;
    for (let shift = 1; ; shift *= 0x80) {
      if (!(await this.need(1))) throw new SplitError('tar-split records are truncated');
      const b = this.take(1)[0];
      n += (b & 0x7f) * shift;
      if (b < 0x80) return n;
      if (shift > 2 ** 49) throw new SplitError('tar-split record is damaged');
    }
  }
}

/** The records of a tar-split file, in order. */
export async function* readRecords(file: string, trailer: SplitTrailer): AsyncGenerator<SplitRecord> {
  const { createReadStream } = await import('node:fs');
  const { createGunzip } = process.getBuiltinModule('node:zlib');
  const gunzip = createGunzip();
  const input = createReadStream(file, { start: 0, end: trailer.records - 1 });
  input.once('error', (e) => gunzip.destroy(e));
  input.pipe(gunzip);
  const src = new RecordSource(gunzip);
  let index = 0;
  try {
    while (await src.need(1)) {
      const kind = src.take(1)[0];
      if (kind === V) {
        const n = await src.varint();
        await src.need(n);
        yield { kind: 'bytes', data: Buffer.from(src.take(n)) };
      } else if (kind === Z) {
        yield { kind: 'zeros', size: await src.varint() };
      } else if (kind === F) {
        const size = await src.varint();
        await src.need(4);
        const crc = src.take(4).readUInt32LE(0);
        const n = await src.varint();
        await src.need(n);
        yield { kind: 'file', index: index++, path: src.take(n).toString('utf8'), size, crc };
      } else throw new SplitError('tar-split record is damaged');
    }
  } catch (err) {
    if (err instanceof SplitError) throw err;
    if ((err as { code?: string }).code?.startsWith('Z_')) throw new SplitError('tar-split records are damaged');
    throw err;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}
