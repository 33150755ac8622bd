// Writes a tar archive to a stream entry by entry, honouring backpressure; big entries are
// streamed in chunks, never held whole.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../tar/writer.js';

/** A fixed mtime keeps archives of the same images byte-identical. */
const MTIME = 0;

export class TarOut {
  /** The stream's first error: it fails the next write, never goes unhandled. */
  private failed: Error | undefined;

  constructor(private readonly out: Writable) {
    // One listener for the archive's whole life: a file that cannot be opened or written
    // errors between two waits for 'drain' too, and an 'error' no one listens to kills the process.
    out.once('error', (err: Error) => (this.failed = err));
  }

  async write(buf: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    // once() rejects on 'error' and removes both its listeners when it settles (a race against a
    // second once(out, 'error') left one listener behind per wait: MaxListenersExceededWarning).
    if (!this.out.write(buf)) await once(this.out, 'drain');
    if (this.failed) throw this.failed;
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

  /** A file entry of `size` bytes taken from `source`, which must yield exactly that many. */
  async stream(name: string, size: number, source: AsyncIterable<Uint8Array>): Promise<void> {
    await this.write(encodeHeader({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: MTIME, size }));
    let written = 0;
    for await (const chunk of source) {
      written += chunk.length;
      if (written > size) throw new Error(`"${name}" is longer than its ${size} bytes`);
      await this.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    if (written !== size) throw new Error(`"${name}" is shorter than its ${size} bytes`);
    await this.write(Buffer.alloc(padding(size)));
  }

  async end(): Promise<void> {
    await this.write(END_OF_ARCHIVE);
    this.out.end();
    await once(this.out, 'finish');
  }
}
