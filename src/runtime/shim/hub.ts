// The shim's side of attach: a unix socket server in the container's dir. Every client gets
// the container's output from the moment it connects; stdin frames from any client feed the
// container's stdin (with -i); the exit frame tells clients the container is gone for good.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { encodeFrame, FRAME, FrameDecoder } from '../attach.js';

/**
 * A unix socket path short enough for sun_path (108 bytes) whatever the state root's length:
 * the directory is reached through /proc/self/fd of an open descriptor.
 */
export function shortSocketPath(dir: string, name: string): { path: string; close: () => void } {
  const full = path.join(dir, name);
  if (Buffer.byteLength(full) < 100) return { path: full, close: () => undefined };
  const fd = fs.openSync(dir, 'r');
  return { path: `/proc/self/fd/${fd}/${name}`, close: () => fs.closeSync(fd) };
}

export class AttachHub {
  private readonly clients = new Set<net.Socket>();
  private server: net.Server | undefined;
  private stdin: PassThrough | undefined;
  private stdinOnce = false;
  /** Called with (rows, cols) when a client reports its terminal size. */
  onResize: ((rows: number, cols: number) => void) | undefined;

  async listen(dir: string, name: string): Promise<void> {
    const sock = shortSocketPath(dir, name);
    fs.rmSync(path.join(dir, name), { force: true });
    const server = net.createServer((c) => this.accept(c));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(sock.path, () => resolve());
      });
      // Only root (the owner) may attach: a client can type into the container.
      fs.chmodSync(sock.path, 0o600);
    } finally {
      sock.close();
    }
    this.server = server;
  }

  /** A fresh stdin stream for the next run of the container (undefined without -i). */
  newStdin(interactive: boolean, stdinOnce: boolean): PassThrough | undefined {
    this.stdin = interactive ? new PassThrough() : undefined;
    this.stdinOnce = stdinOnce;
    return this.stdin;
  }

  /** A writable that copies the container's output to every attached client. */
  output(type: typeof FRAME.stdout | typeof FRAME.stderr): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        const frame = encodeFrame(type, chunk);
        for (const c of this.clients) c.write(frame);
        done();
      },
    });
  }

  /** Tells every client the container exited for good, then closes the server. */
  async close(exitCode: number | undefined): Promise<void> {
    const frame = exitCode === undefined ? undefined : encodeFrame(FRAME.exit, String(exitCode));
    await Promise.all(
      [...this.clients].map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('close', () => resolve());
            if (frame) c.end(frame);
            else c.end();
            setTimeout(() => {
              c.destroy();
              resolve();
            }, 2000).unref();
          }),
      ),
    );
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Resolves when a client connects (or after TIMEOUT_MS). */
  waitForClient(timeoutMs: number): Promise<void> {
    if (this.clients.size) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.onClient = undefined;
        resolve();
      }
      this.onClient = done;
    });
  }

  private onClient: (() => void) | undefined;

  private accept(c: net.Socket): void {
    this.clients.add(c);
    this.onClient?.();
    const decoder = new FrameDecoder((type, payload) => {
      if (type === FRAME.stdin) this.stdin?.write(payload);
      else if (type === FRAME.closeStdin && this.stdinOnce) this.stdin?.end();
      else if (type === FRAME.resize) {
        const [rows, cols] = payload.toString().split(' ').map(Number);
        if (rows && cols) this.onResize?.(rows, cols);
      }
    });
    c.on('data', (chunk: Buffer) => decoder.push(chunk));
    c.on('error', () => c.destroy());
    c.on('close', () => this.clients.delete(c));
  }
}
