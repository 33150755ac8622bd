// Builds small tar archives in memory (tests and fixtures craft hostile layers with it).
import { END_OF_ARCHIVE, encodeHeader, padding, type TarHeaderFields } from './writer.js';

export interface TarSpec extends Partial<Omit<TarHeaderFields, 'path'>> {
  path: string;
  content?: string | Buffer;
}

export function buildTar(entries: TarSpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const content = e.content === undefined ? Buffer.alloc(0) : Buffer.from(e.content);
    const type = e.type ?? (e.path.endsWith('/') ? 'dir' : 'file');
    const size = type === 'file' ? content.length : 0;
    parts.push(encodeHeader({ mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, mtime: 1_700_000_000, ...e, type, size }));
    if (size) parts.push(content, Buffer.alloc(padding(size)));
  }
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}
