// The attach protocol between a container's shim and `attach`/`start -a`/`run` clients, over a
// unix socket in the container's dir. Both directions carry Docker-style frames: one byte of
// type, three zero bytes, a 32-bit big-endian length, the payload. Types: 0 stdin, 1 stdout,
// 2 stderr (the shim's output, tty output is all stdout), 3 stdin closed, 4 resize ("ROWS COLS"),
// 5 exit (payload: the exit code as text, sent once the container has exited for good).
import net from 'node:net';

export const FRAME = { stdin: 0, stdout: 1, stderr: 2, closeStdin: 3, resize: 4, exit: 5 } as const;
export type FrameType = (typeof FRAME)[keyof typeof FRAME];

export function encodeFrame(type: FrameType, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** Splits a byte stream into frames; call push() with each chunk. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (type: FrameType, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const type = this.buf[0] as FrameType;
      const payload = this.buf.subarray(8, 8 + size);
      this.buf = this.buf.subarray(8 + size);
      this.onFrame(type, payload);
    }
  }
}

/** Docker's detach keys: "ctrl-p,ctrl-q" by default; "ctrl-<letter>", "ctrl-@", "ctrl-[" ... or single characters. */
export function parseDetachKeys(text: string): Buffer {
  const bytes: number[] = [];
  for (const key of text.split(',')) {
    const k = key.trim().toLowerCase();
    if (k.length === 1) bytes.push(key.trim().charCodeAt(0));
    else if (/^ctrl-[a-z@[\\\]^_]$/.test(k)) {
      const c = k[5]!;
      bytes.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }[c]!);
    } else throw new Error(`invalid detach keys "${text}": unknown key "${key}"`);
  }
  if (bytes.length === 0) throw new Error(`invalid detach keys "${text}"`);
  return Buffer.from(bytes);
}

/**
 * Watches stdin bytes for the detach sequence. Bytes that might start the sequence are held
 * back until it is clear they don't; the rest pass through at once.
 */
export class DetachWatcher {
  private held: number[] = [];
  constructor(private readonly keys: Buffer) {}

  /** Returns the bytes to forward, and whether the sequence was completed. */
  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      this.held.push(byte);
      // Drop held bytes from the front until what is held is a prefix of the keys.
      while (this.held.length && !this.keys.subarray(0, this.held.length).equals(Buffer.from(this.held))) out.push(this.held.shift()!);
      if (this.held.length === this.keys.length) return { forward: Buffer.from(out), detach: true };
    }
    return { forward: Buffer.from(out), detach: false };
  }
}

export interface AttachClientOptions {
  socketPath: string;
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  detachKeys?: Buffer;
  /** Sent at connect and on SIGWINCH by the caller. */
  size?: () => { rows: number; cols: number } | undefined;
}

export type AttachOutcome = { kind: 'exited'; exitCode: number } | { kind: 'detached' } | { kind: 'closed' };

/** Connects to a shim and relays until the container exits, the user detaches or the shim goes. */
export function attachToShim(options: AttachClientOptions): Promise<AttachOutcome> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(options.socketPath);
    const watcher = options.detachKeys ? new DetachWatcher(options.detachKeys) : undefined;
    let outcome: AttachOutcome = { kind: 'closed' };
    const onStdin = (chunk: Buffer) => {
      const { forward, detach } = watcher ? watcher.feed(chunk) : { forward: chunk, detach: false };
      if (forward.length) sock.write(encodeFrame(FRAME.stdin, forward));
      if (detach) {
        outcome = { kind: 'detached' };
        sock.end();
      }
    };
    const onStdinEnd = () => sock.write(encodeFrame(FRAME.closeStdin));
    const sendSize = () => {
      const size = options.size?.();
      if (size && !sock.destroyed) sock.write(encodeFrame(FRAME.resize, `${size.rows} ${size.cols}`));
    };
    const cleanup = () => {
      options.stdin?.off('data', onStdin);
      options.stdin?.off('end', onStdinEnd);
      options.stdin?.pause();
      if (options.size) process.off('SIGWINCH', sendSize);
    };
    const decoder = new FrameDecoder((type, payload) => {
      if (type === FRAME.stdout) options.stdout.write(payload);
      else if (type === FRAME.stderr) options.stderr.write(payload);
      else if (type === FRAME.exit) outcome = { kind: 'exited', exitCode: Number(payload.toString()) };
    });
    sock.on('connect', () => {
      sendSize();
      // The terminal resized: the container's pty follows.
      if (options.size) process.on('SIGWINCH', sendSize);
      options.stdin?.on('data', onStdin);
      options.stdin?.on('end', onStdinEnd);
      options.stdin?.resume();
    });
    sock.on('data', (chunk: Buffer) => decoder.push(chunk));
    sock.on('error', (err) => {
      cleanup();
      reject(err);
    });
    sock.on('close', () => {
      cleanup();
      resolve(outcome);
    });
  });
}
