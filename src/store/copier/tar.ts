// Copier entries (get.ts) written out as a tar stream: what `build --output type=tar` sends,
// a tree with its owners, modes, times and hard links, file bodies streamed from their host
// files, never held whole.
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { TarOut } from '../archive/tar-out.js';
import { encodeHeader, padding } from '../tar/writer.js';
import type { CopyEntry } from './get.js';

/** Writes `entries` to `out` as a tar and ends it. Device nodes and fifos are written as headers. */
export async function writeEntriesTar(entries: AsyncIterable<CopyEntry>, out: Writable): Promise<number> {
  const tar = new TarOut(out);
  let count = 0;
  for await (const e of entries) {
    if (e.type === 'unknown') continue;
    const file = e.type === 'file';
    const size = file ? e.size : 0;
    await tar.write(encodeHeader({
      path: e.path, type: e.type, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, size, mtime: Math.floor(e.mtime),
      linkpath: e.linkpath || undefined, devmajor: e.devmajor, devminor: e.devminor,
    }));
    if (file) {
      let written = 0;
      const body = e.source ? fs.createReadStream(e.source) : e.body();
      for await (const chunk of body as AsyncIterable<Buffer>) {
        const take = Math.min(chunk.length, size - written);
        if (take > 0) await tar.write(take === chunk.length ? chunk : chunk.subarray(0, take));
        written += take;
      }
      // A file that shrank while read is padded out: the header promised its size.
      if (written < size) await tar.write(Buffer.alloc(size - written));
      await tar.write(Buffer.alloc(padding(size)));
    }
    count++;
  }
  await tar.end();
  return count;
}
