// A streaming tar reader (ustar, PAX, GNU long names). node-tar's Header decodes the 512-byte
// blocks; the framing, PAX records and limits are ours because node-tar's Parser drops
// SCHILY.xattr records (file capabilities, overlay xattrs) that layers must keep.
import { Header } from 'tar/header';
import { StrataError } from '../../errors.js';
import { crc32, type TarTap } from '../tar-split.js';

/** Where tar bytes come from: a stream, a generator or (in tests) an array of buffers. */
export type ChunkSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'unknown';

export interface TarEntry {
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkpath: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
  /** The content; read it fully (or not at all) before asking for the next entry. */
  body(): AsyncGenerator<Buffer>;
  /**
   * Says, before body() is read, that the reader's consumer keeps the content as the file at
   * `path` of a snapshot: a tap (readTar's third argument) then records a reference to it
   * instead of the bytes.
   */
  storedAt?(path: string): void;
}

export interface TarLimits {
  /** Total archive bytes read (after decompression). Default 64 GiB. */
  maxBytes?: number;
  /** Number of entries. Default 1,000,000. */
  maxEntries?: number;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

/** Pulls exact byte counts out of an async chunk source, counting every byte against a limit. */
class ByteSource {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  private it: AsyncIterator<Uint8Array>;
  total = 0;
  constructor(source: ChunkSource, private readonly maxBytes: number, private readonly tap?: TarTap) {
    const src = Symbol.asyncIterator in source ? source : (async function* () { yield* source; })();
    this.it = src[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.total += chunk.length;
    if (this.total > this.maxBytes) throw new StrataError(`archive too large: more than ${this.maxBytes} bytes`);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  /** Exactly n bytes, or null at a clean end of input. */
  async read(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) if (!(await this.fill())) break;
    if (this.buf.length < n) {
      if (this.buf.length === 0) return null;
      throw new StrataError('truncated tar archive');
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.tap?.verbatim(out);
    return out;
  }

  /** Up to n bytes as they arrive; `content` (when tapped): content kept elsewhere, only its crc32 is taken. */
  async *chunks(n: number, content?: { crc: number }): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw new StrataError('truncated tar archive');
      const take = Math.min(left, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      left -= take;
      if (content) content.crc = crc32(out, content.crc);
      else this.tap?.verbatim(out);
      yield out;
    }
  }

  /** With a tap: everything after the end of the archive (the end blocks' record padding) is part of the layer too. */
  async rest(): Promise<void> {
    if (!this.tap) return;
    do {
      this.tap.verbatim(this.buf);
      this.buf = Buffer.alloc(0);
    } while (await this.fill());
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.chunks(n)) void _;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

function parsePax(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(body.subarray(off, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0 || off + len > body.length) throw new StrataError('invalid PAX header in tar archive');
    const rec = body.subarray(sp + 1, off + len - 1); // drop the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}

const pad = (n: number) => (512 - (n % 512)) % 512;
const cstring = (b: Buffer) => {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
};

/**
 * Reads entries from a tar stream (already decompressed). With a `tap`, every byte of the
 * stream is handed to it in order, to the last (see TarEntry.storedAt).
 */
export async function* readTar(source: ChunkSource, limits: TarLimits = {}, tap?: TarTap): AsyncGenerator<TarEntry> {
  const maxEntries = limits.maxEntries ?? 1_000_000;
  const src = new ByteSource(source, limits.maxBytes ?? 64 * 1024 ** 3, tap);
  let entries = 0;
  let globalPax = new Map<string, Buffer>();
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const block = await src.read(512);
      if (!block) return;
      if (block.every((b) => b === 0)) {
        await src.rest(); // end-of-archive marker; what follows is padding
        return;
      }
      const h = new Header(block);
      if (!h.cksumValid) throw new StrataError('invalid tar header checksum');
      const flag = String.fromCharCode(block[156]);
      const size = h.size ?? 0;
      if (size < 0) throw new StrataError('invalid tar entry size');
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (size > 16 * 1024 * 1024) throw new StrataError('tar extended header too large');
        const body = size ? await src.read(size) : Buffer.alloc(0);
        if (!body && size) throw new StrataError('truncated tar archive');
        await src.skip(pad(size));
        if (flag === 'x') pax = new Map([...pax, ...parsePax(body ?? Buffer.alloc(0))]);
        else if (flag === 'g') globalPax = new Map([...globalPax, ...parsePax(body ?? Buffer.alloc(0))]);
        else if (flag === 'L') longName = cstring(body ?? Buffer.alloc(0));
        else longLink = cstring(body ?? Buffer.alloc(0));
        continue;
      }
      if (++entries > maxEntries) throw new StrataError(`archive has too many entries: more than ${maxEntries}`);
      const ext = new Map([...globalPax, ...pax]);
      const str = (k: string) => ext.get(k)?.toString('utf8');
      const num = (k: string) => (ext.has(k) ? Number(str(k)) : undefined);
      const xattrs = new Map<string, Buffer>();
      for (const [k, v] of ext) if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v);
      const type = TYPES[flag] ?? 'unknown';
      const entrySize = num('size') ?? size;
      // Links, dirs and devices carry no data even if the header claims a size.
      const bodySize = type === 'file' || type === 'unknown' ? entrySize : 0;
      let remaining = bodySize;
      let started = false;
      let stored: { path: string; crc: number } | undefined;
      const entry: TarEntry = {
        path: str('path') ?? longName ?? h.path ?? '',
        type,
        mode: (h.mode ?? 0) & 0o7777,
        uid: num('uid') ?? h.uid ?? 0,
        gid: num('gid') ?? h.gid ?? 0,
        size: type === 'file' ? entrySize : 0,
        mtime: num('mtime') ?? (h.mtime ? h.mtime.getTime() / 1000 : 0),
        linkpath: str('linkpath') ?? longLink ?? h.linkpath ?? '',
        devmajor: h.devmaj ?? 0,
        devminor: h.devmin ?? 0,
        xattrs,
        body: async function* () {
          if (started) return;
          started = true;
          for await (const c of src.chunks(remaining, stored)) {
            remaining -= c.length;
            yield c;
          }
          if (stored) tap?.file(stored.path, bodySize, stored.crc);
        },
        storedAt(path: string) {
          if (tap && !started && type === 'file') stored = { path, crc: 0 };
        },
      };
      pax = new Map();
      longName = undefined;
      longLink = undefined;
      yield entry;
      if (stored && (remaining > 0 || !started)) throw new StrataError(`tar entry "${entry.path}" was not read to its end`);
      await src.skip(remaining);
      await src.skip(pad(bodySize));
    }
  } finally {
    await src.close();
  }
}
