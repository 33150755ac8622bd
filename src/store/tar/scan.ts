// A tar's entries read from its headers alone, chunk by chunk, without copying the content
// (only a header or extended header that straddles two chunks is copied): what a packed layer's
// check (layer-packed.ts) needs at download speed. readTar (reader.ts) is the reader that hands
// out content; this one only skips it. Names follow readTar's: PAX path/linkpath/size, GNU long
// names, the ustar prefix.
import { StrataError } from '../../errors.js';
import type { EntryType, TarLimits } from './reader.js';

export interface ScannedEntry {
  path: string;
  type: EntryType;
  linkpath: string;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};
const pad = (n: number) => (512 - (n % 512)) % 512;
const EMPTY = Buffer.alloc(0);

function str(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

/** An octal (or base-256) numeric field, as node-tar's Header reads it. */
function num(b: Buffer, off: number, len: number): number {
  if (b[off] & 0x80) {
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + b[i];
    if (b[off] & 0x40) throw new StrataError('invalid tar entry size');
    return n;
  }
  const s = b.toString('latin1', off, off + len).replace(/\0.*$/s, '').trim();
  return s ? Number.parseInt(s, 8) : 0;
}

function parsePax(body: Buffer, into: Map<string, string>): void {
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(body.toString('ascii', off, sp), 10);
    if (!Number.isFinite(len) || len <= 0 || off + len > body.length) throw new StrataError('invalid PAX header in tar archive');
    const rec = body.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0) into.set(rec.toString('utf8', 0, eq), rec.toString('utf8', eq + 1));
    off += len;
  }
}

export class TarScanner {
  private pending = EMPTY;
  private want = 512;
  private skip = 0;
  private ext?: { flag: string; size: number };
  private pax = new Map<string, string>();
  private globalPax = new Map<string, string>();
  private longName?: string;
  private longLink?: string;
  private entries = 0;
  private total = 0;
  ended = false;

  constructor(private readonly onEntry: (e: ScannedEntry) => void, private readonly limits: TarLimits = {}) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.total > (this.limits.maxBytes ?? 64 * 1024 ** 3)) throw new StrataError(`archive too large: more than ${this.limits.maxBytes} bytes`);
    let off = 0;
    while (off < chunk.length && !this.ended) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - off);
        this.skip -= n;
        off += n;
        continue;
      }
      if (this.pending.length === 0 && chunk.length - off >= this.want) {
        const b = chunk.subarray(off, off + this.want);
        off += this.want;
        this.consume(b);
        continue;
      }
      const n = Math.min(this.want - this.pending.length, chunk.length - off);
      this.pending = Buffer.concat([this.pending, chunk.subarray(off, off + n)]);
      off += n;
      if (this.pending.length === this.want) {
        const b = this.pending;
        this.pending = EMPTY;
        this.consume(b);
      }
    }
  }

  /** At the end of the input: a tar cut inside an entry is refused (as readTar does). */
  end(): void {
    if (this.ended) return;
    if (this.pending.length || this.skip || this.ext) throw new StrataError('truncated tar archive');
  }

  private consume(b: Buffer): void {
    if (this.ext) {
      const { flag, size } = this.ext;
      this.ext = undefined;
      this.want = 512;
      const body = b.subarray(0, size);
      if (flag === 'x') parsePax(body, this.pax);
      else if (flag === 'g') parsePax(body, this.globalPax);
      else if (flag === 'L') this.longName = str(body, 0, body.length);
      else this.longLink = str(body, 0, body.length);
      return;
    }
    let zero = true;
    let sum = 8 * 0x20;
    for (let i = 0; i < 512; i++) {
      if (b[i] !== 0) zero = false;
      if (i < 148 || i >= 156) sum += b[i];
    }
    if (zero) {
      this.ended = true; // what follows the end marker is padding
      return;
    }
    if (sum !== num(b, 148, 8)) throw new StrataError('invalid tar header checksum');
    const flag = String.fromCharCode(b[156]);
    const size = num(b, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > 16 * 1024 * 1024) throw new StrataError('tar extended header too large');
      this.ext = { flag, size };
      this.want = size + pad(size);
      if (this.want === 0) this.consume(EMPTY);
      return;
    }
    if (++this.entries > (this.limits.maxEntries ?? 1_000_000)) throw new StrataError(`archive has too many entries: more than ${this.limits.maxEntries ?? 1_000_000}`);
    const pax = (k: string) => this.pax.get(k) ?? this.globalPax.get(k);
    let name = str(b, 0, 100);
    if (b.toString('latin1', 257, 265) === 'ustar\u000000') {
      const prefix = b[475] !== 0 ? str(b, 345, 155) : str(b, 345, 130);
      if (prefix) name = `${prefix}/${name}`;
    }
    const type = TYPES[flag] ?? 'unknown';
    const paxSize = pax('size');
    const entrySize = paxSize !== undefined ? Number(paxSize) : size;
    const bodySize = type === 'file' || type === 'unknown' ? entrySize : 0;
    const entry = { path: pax('path') ?? this.longName ?? name, type, linkpath: pax('linkpath') ?? this.longLink ?? str(b, 157, 100) };
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    this.skip = bodySize + pad(bodySize);
    this.onEntry(entry);
  }
}
