// Tar header encoding: a ustar block (node-tar's Header, which also does base-256 numbers),
// preceded by a PAX record block when a field does not fit or the entry carries xattrs.
import { Header } from 'tar/header';

export interface TarHeaderFields {
  path: string;
  type: 'file' | 'link' | 'symlink' | 'dir' | 'char' | 'block' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  /** Seconds since the epoch (integer). */
  mtime: number;
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

const FLAG: Record<TarHeaderFields['type'], string> = {
  file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6',
};
const TYPE_NAME: Record<string, string> = {
  '0': 'File', '1': 'Link', '2': 'SymbolicLink', '3': 'CharacterDevice', '4': 'BlockDevice', '5': 'Directory', '6': 'FIFO',
};

function paxRecord(key: string, value: Buffer): Buffer {
  const tail = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = tail.length + 1;
  while (String(len).length + tail.length !== len) len = String(len).length + tail.length;
  return Buffer.concat([Buffer.from(String(len)), tail]);
}

function ustar(f: TarHeaderFields, overrides: Partial<TarHeaderFields> = {}, paxSize?: number): { block: Buffer; needPax: boolean } {
  const block = Buffer.alloc(512);
  const flag = paxSize === undefined ? FLAG[f.type] : 'x';
  const h = new Header({
    path: overrides.path ?? f.path,
    mode: f.mode & 0o7777,
    uid: f.uid,
    gid: f.gid,
    size: paxSize ?? f.size ?? 0,
    mtime: new Date(f.mtime * 1000),
    type: paxSize === undefined ? TYPE_NAME[flag] : 'ExtendedHeader',
    linkpath: overrides.linkpath ?? f.linkpath ?? '',
    uname: '',
    gname: '',
    devmaj: f.devmajor ?? 0,
    devmin: f.devminor ?? 0,
  } as ConstructorParameters<typeof Header>[0]);
  h.encode(block, 0);
  return { block, needPax: h.needPax };
}

/** The header block(s) for one entry; the caller then writes `size` bytes of content and padding(size). */
export function encodeHeader(f: TarHeaderFields): Buffer {
  const block = Buffer.alloc(512);
  return encodeSimpleHeader(f, block) ? block : encodeHeaderGeneral(f);
}

// Largest values a null-terminated octal field holds, by field width.
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

/** True when every character is ASCII and the string is shorter than `limit` (node-tar needs no PAX then). */
function plainAscii(s: string, limit: number): boolean {
  if (s.length >= limit) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** node-tar's number format: octal, zero-padded to width-1 digits, or width-2 digits then " ", then NUL. */
function octal(block: Buffer, off: number, width: number, n: number): void {
  let v = Math.floor(n);
  let len = 1;
  for (let x = v; x >= 8; x = Math.floor(x / 8)) len++;
  const digits = len === width - 1 ? len : width - 2;
  for (let i = off + digits - 1; i >= off; i--) {
    block[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
  if (digits === width - 2) block[off + width - 2] = 0x20;
  block[off + width - 1] = 0;
}

/**
 * Writes the single ustar block of an entry into `block` (512 zero bytes) when it needs no
 * PAX record: no xattrs, ASCII path under 100 bytes and link under 101, numbers that fit. The
 * bytes are exactly node-tar's (encodeHeaderGeneral), without its per-entry objects: a layer
 * of tens of thousands of files spent most of its packing time in them. False: use encodeHeader.
 */
export function encodeSimpleHeader(f: TarHeaderFields, block: Buffer): boolean {
  const size = f.size ?? 0;
  const linkpath = f.linkpath ?? '';
  const devmajor = f.devmajor ?? 0;
  const devminor = f.devminor ?? 0;
  if (f.xattrs && f.xattrs.size > 0) return false;
  if (!plainAscii(f.path, 100) || !plainAscii(linkpath, 101)) return false;
  if (!(f.uid >= 0 && f.uid <= MAX_OCTAL_8 && f.gid >= 0 && f.gid <= MAX_OCTAL_8)) return false;
  if (!(size >= 0 && size <= MAX_OCTAL_12 && f.mtime >= 0 && f.mtime <= MAX_OCTAL_12)) return false;
  if (!(devmajor >= 0 && devmajor <= MAX_OCTAL_8 && devminor >= 0 && devminor <= MAX_OCTAL_8)) return false;
  block.write(f.path, 0, 'latin1');
  octal(block, 100, 8, f.mode & 0o7777);
  octal(block, 108, 8, f.uid);
  octal(block, 116, 8, f.gid);
  octal(block, 124, 12, size);
  octal(block, 136, 12, f.mtime);
  block[156] = FLAG[f.type].charCodeAt(0);
  if (linkpath) block.write(linkpath, 157, 'latin1');
  block.write('ustar\u000000', 257, 'latin1');
  octal(block, 329, 8, devmajor);
  octal(block, 337, 8, devminor);
  let sum = 8 * 0x20; // the checksum field counts as spaces
  for (let i = 0; i < 148; i++) sum += block[i];
  for (let i = 156; i < 512; i++) sum += block[i];
  octal(block, 148, 8, sum);
  return true;
}

/** encodeHeader through node-tar's Header, for every entry (the reference the fast path must match). */
export function encodeHeaderGeneral(f: TarHeaderFields): Buffer {
  const first = ustar(f);
  const records: Buffer[] = [];
  if (first.needPax || (f.xattrs && f.xattrs.size > 0)) {
    if (Buffer.byteLength(f.path) > 100) records.push(paxRecord('path', Buffer.from(f.path)));
    if (f.linkpath && Buffer.byteLength(f.linkpath) > 100) records.push(paxRecord('linkpath', Buffer.from(f.linkpath)));
    if ((f.size ?? 0) >= 8 ** 11) records.push(paxRecord('size', Buffer.from(String(f.size))));
    if (f.uid >= 8 ** 7) records.push(paxRecord('uid', Buffer.from(String(f.uid))));
    if (f.gid >= 8 ** 7) records.push(paxRecord('gid', Buffer.from(String(f.gid))));
    for (const [k, v] of [...(f.xattrs ?? new Map<string, Buffer>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      records.push(paxRecord(`SCHILY.xattr.${k}`, v));
    }
  }
  if (records.length === 0) return first.block;
  const body = Buffer.concat(records);
  // The ustar fields that do not fit are carried by the PAX record; keep a truncated stand-in.
  const shortPath = f.path.length > 100 ? f.path.slice(-100).replace(/^[^/]*\//, '') : f.path;
  const paxHeader = ustar({ ...f, path: `PaxHeaders/${shortPath}`.slice(0, 100) }, {}, body.length).block;
  const main = ustar(f, { path: Buffer.byteLength(f.path) > 100 ? shortPath.slice(0, 100) : f.path, linkpath: (f.linkpath ?? '').slice(0, 100) }).block;
  return Buffer.concat([paxHeader, body, Buffer.alloc(padding(body.length)), main]);
}

export function padding(size: number): number {
  return (512 - (size % 512)) % 512;
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(1024);
