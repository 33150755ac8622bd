// Writes a tar archive to a stream entry by entry, honouring backpressure; file entries are
// streamed from disk in chunks, never read whole.
import fs from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../tar/writer.js';

/** A fixed mtime keeps archives of the same images byte-identical. */
const MTIME = 0;

export class TarOut {
  constructor(private readonly out: Writable) {}

  async write(buf: Buffer): Promise<void> {
    // once() rejects on 'error' and removes both its listeners when it settles (a race against a
    // second once(out, 'error') left one listener behind per wait: MaxListenersExceededWarning).
    if (!this.out.write(buf)) await once(this.out, 'drain');
  }

  async dir(name: string): Promise<void> {
    await this.write(encodeHeader({ path: name.endsWith('/') ? name : `${name}/`, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: MTIME }));
  }

  async bytes(name: string, data: Buffer | string): Promise<void> {
    const buf = Buffer.from(data);
    await this.write(encodeHeader({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: MTIME, size: buf.length }));
    await this.write(buf);
    await this.write(Buffer.alloc(padding(buf.length)));
  }

  async file(name: string, file: string): Promise<void> {
    const fh = await fs.open(file, 'r');
    try {
      const { size } = await fh.stat();
      await this.write(encodeHeader({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: MTIME, size }));
      let left = size;
      while (left > 0) {
        const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, left));
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) throw new Error(`"${file}" shrank while it was archived`);
        await this.write(buf.subarray(0, bytesRead));
        left -= bytesRead;
      }
      await this.write(Buffer.alloc(padding(size)));
    } finally {
      await fh.close();
    }
  }

  async end(): Promise<void> {
    await this.write(END_OF_ARCHIVE);
    this.out.end();
    await once(this.out, 'finish');
  }
}
