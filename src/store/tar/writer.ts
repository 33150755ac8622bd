// Tar header encoding: a ustar block (node-tar's Header, which also does base-256 numbers),
// preceded by a PAX record block when a field does not fit or the entry carries xattrs.
import { Header } from 'tar';

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
