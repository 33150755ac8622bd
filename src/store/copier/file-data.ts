// A file's content written from libuv's pool while the copier's thread reads on (inflate,
// sha256, the tar's next headers): its chunks are gathered into writes of up to GATHER bytes at
// explicit positions, so a file's writes may run at once and still land where they belong. The
// bytes handed to the pool and not yet written are bounded for the whole process (two layers
// unpacked at once share the bound), and the chunks are kept, not copied: the copier's sources
// hand over chunks they do not reuse (tar/reader.ts ChunkSource).
import fs from 'node:fs';
import type { Writes } from './writes.js';

/** Files this big are written in the background; a smaller one's write costs less than the pool's round trip. */
export const BACKGROUND_BYTES = 128 * 1024;

/** Bytes gathered into one write: a pool round trip per MiB rather than per chunk. */
const GATHER = 1024 * 1024;
/** Bytes in the pool's hands at most (all files, all copies of this process). */
const IN_FLIGHT = 8 * 1024 * 1024;

/** The process-wide bound of bytes in flight. */
class Budget {
  private used = 0;
  private waiting: { bytes: number; go: () => void }[] = [];

  async take(bytes: number): Promise<void> {
    // One write bigger than the whole bound still goes, alone.
    if (this.waiting.length === 0 && (this.used === 0 || this.used + bytes <= IN_FLIGHT)) {
      this.used += bytes;
      return;
    }
    await new Promise<void>((go) => this.waiting.push({ bytes, go }));
  }

  give(bytes: number): void {
    this.used -= bytes;
    while (this.waiting.length) {
      const next = this.waiting[0];
      if (this.used !== 0 && this.used + next.bytes > IN_FLIGHT) break;
      this.waiting.shift();
      this.used += next.bytes;
      next.go();
    }
  }
}

const budget = new Budget();

function writev(fd: number, buffers: Buffer[], position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.writev(fd, buffers, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/** Writes all of `buffers` at `position` (a short write goes on with the rest). */
async function writeAllAt(fd: number, buffers: Buffer[], position: number): Promise<void> {
  let left = buffers;
  let pos = position;
  for (;;) {
    let n = await writev(fd, left, pos);
    if (n === 0) throw new Error('write: no progress');
    pos += n;
    while (left.length && n >= left[0].length) n -= left.shift()!.length;
    if (!left.length) return;
    if (n) left = [left[0].subarray(n), ...left.slice(1)];
  }
}

/** The content of one open file, written in the background; end() resolves when all of it is written. */
class FileData {
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private position = 0;
  private writes: Promise<void>[] = [];
  private failure: { error: unknown } | undefined;

  constructor(private readonly fd: number) {}

  /** Takes `chunk` (kept until written); waits while the process has too many bytes in flight. */
  async add(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure.error;
    if (chunk.length === 0) return;
    this.gathered.push(chunk);
    this.gatheredBytes += chunk.length;
    if (this.gatheredBytes >= GATHER) await this.flush();
  }

  private async flush(): Promise<void> {
    const bytes = this.gatheredBytes;
    if (bytes === 0) return;
    const buffers = this.gathered;
    const position = this.position;
    this.gathered = [];
    this.gatheredBytes = 0;
    this.position += bytes;
    await budget.take(bytes);
    const w = writeAllAt(this.fd, buffers, position).then(
      () => budget.give(bytes),
      (error: unknown) => {
        budget.give(bytes);
        this.failure ??= { error };
      },
    );
    this.writes.push(w);
  }

  /** Writes what is left; resolves when every byte is written, or throws the first write's error. */
  async end(): Promise<void> {
    await this.flush();
    await Promise.all(this.writes);
    if (this.failure) throw this.failure.error;
  }
}

/**
 * Writes `body` into the open file `fd` from libuv's pool, then calls `done` (its attributes)
 * and closes `fd` once all of it is written. That last part is one of `writes` at `rel`, so
 * whatever comes later at or under `rel` waits for it (and its failure stops the copy). Returns
 * when `body` is read; `fd` is closed by then if anything failed.
 */
export async function writeInBackground(fd: number, body: AsyncIterable<Buffer>, writes: Writes, rel: string, done: () => void): Promise<void> {
  const data = new FileData(fd);
  let handed = false;
  try {
    for await (const chunk of body) await data.add(chunk);
    await writes.start(rel, async () => {
      handed = true;
      try {
        await data.end();
        done();
      } finally {
        fs.closeSync(fd);
      }
    });
  } finally {
    if (!handed) {
      await data.end().catch(() => undefined); // nothing of it writes after the failure is reported
      fs.closeSync(fd);
    }
  }
}
