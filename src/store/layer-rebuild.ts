// A layer's tar rebuilt from its snapshot and tar-split (tar-split.ts), byte for byte. What
// the rebuild finds wrong (a file missing or of another size, a damaged tar-split) is thrown
// as a SplitError naming the file; the caller names the layer and checks the digest.
import fsSync from 'node:fs';
import path from 'node:path';
import { crc32, readRecords, SplitError, type SplitTrailer } from './tar-split.js';

const CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

export interface RebuildOptions {
  /** Also compare each file's crc32 with the one recorded (names the file whose content changed). */
  checkCrc?: boolean;
  /**
   * Where each chunk is gathered: a buffer of `size` bytes (default: a fresh one). A consumer
   * that hands the chunks' memory back (a push's deflate workers do) saves the page faults of
   * fresh memory.
   */
  allocate?: (size: number) => Buffer;
}

/** Gathers output into fresh 1 MiB buffers (the consumer may keep them). */
class Chunks {
  private readonly alloc: (size: number) => Buffer;
  private buf: Buffer;
  private used = 0;
  total = 0;

  constructor(allocate?: (size: number) => Buffer) {
    this.alloc = allocate ?? ((size) => Buffer.allocUnsafe(size));
    this.buf = this.alloc(CHUNK);
  }

  *push(b: Uint8Array): Generator<Buffer> {
    for (let off = 0; off < b.length;) {
      const n = Math.min(CHUNK - this.used, b.length - off);
      this.buf.set(b.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === CHUNK) yield this.take();
    }
  }

  *zeros(size: number): Generator<Buffer> {
    for (let left = size; left > 0;) {
      const n = Math.min(left, CHUNK);
      yield* this.push(ZEROS.subarray(0, n));
      left -= n;
    }
  }

  /** Appends `size` bytes of `fd` from `position`; returns their crc32 when asked. */
  *read(fd: number, position: number, size: number, name: string, crc: { value: number } | undefined): Generator<Buffer> {
    for (let left = size; left > 0;) {
      const n = fsSync.readSync(fd, this.buf, this.used, Math.min(CHUNK - this.used, left), position + size - left);
      if (n === 0) throw new SplitError(`file "${name}" of its snapshot is shorter than the layer says`);
      if (crc) crc.value = crc32(this.buf.subarray(this.used, this.used + n), crc.value);
      this.used += n;
      left -= n;
      if (this.used === CHUNK) yield this.take();
    }
  }

  private take(): Buffer {
    const out = this.used === CHUNK ? this.buf : this.buf.subarray(0, this.used);
    this.total += this.used;
    this.buf = this.alloc(CHUNK);
    this.used = 0;
    return out;
  }

  *flush(): Generator<Buffer> {
    if (this.used) yield this.take();
  }
}

/** A record's path, refused unless it stays inside the snapshot. */
function inside(snapshot: string, rel: string): string {
  const parts = rel.split('/');
  if (rel.startsWith('/') || rel.includes('\0') || parts.some((p) => p === '..' || p === '')) throw new SplitError(`tar-split names an invalid path "${rel}"`);
  return path.join(snapshot, rel);
}

function openFile(abs: string, rel: string, size: number): number {
  let fd: number;
  try {
    fd = fsSync.openSync(abs, fsSync.constants.O_RDONLY | fsSync.constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SplitError(`file "${rel}" is missing from its snapshot`);
    if (code === 'ELOOP') throw new SplitError(`file "${rel}" of its snapshot is a symlink`);
    throw err;
  }
  const st = fsSync.fstatSync(fd);
  if (!st.isFile() || st.size !== size) {
    fsSync.closeSync(fd);
    throw new SplitError(st.isFile() ? `file "${rel}" of its snapshot has ${st.size} bytes, the layer says ${size}` : `"${rel}" of its snapshot is not a file`);
  }
  return fd;
}

/** Streams the tar described by the tar-split `splitFile` (trailer read already) from `snapshot`. */
export async function* rebuildTar(snapshot: string, splitFile: string, trailer: SplitTrailer, options: RebuildOptions = {}): AsyncGenerator<Buffer> {
  const extras = new Map(trailer.extras.map(([index, offset, length]) => [index, { offset, length }]));
  const out = new Chunks(options.allocate);
  const splitFd = extras.size ? fsSync.openSync(splitFile, 'r') : undefined;
  try {
    for await (const r of readRecords(splitFile, trailer)) {
      if (r.kind === 'bytes') yield* out.push(r.data);
      else if (r.kind === 'zeros') yield* out.zeros(r.size);
      else {
        const crc = options.checkCrc ? { value: 0 } : undefined;
        const extra = extras.get(r.index);
        if (extra) {
          if (extra.length !== r.size) throw new SplitError('tar-split extras are damaged');
          yield* out.read(splitFd!, extra.offset, r.size, r.path, crc);
        } else {
          const fd = openFile(inside(snapshot, r.path), r.path, r.size);
          try {
            yield* out.read(fd, 0, r.size, r.path, crc);
          } finally {
            fsSync.closeSync(fd);
          }
        }
        if (crc && crc.value !== r.crc) throw new SplitError(`file "${r.path}" of its snapshot does not hold the layer's content`);
      }
    }
    yield* out.flush();
    if (out.total !== trailer.size) throw new SplitError(`tar-split describes ${out.total} bytes, its trailer ${trailer.size}`);
  } finally {
    if (splitFd !== undefined) fsSync.closeSync(splitFd);
  }
}
