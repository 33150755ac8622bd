// The piscina pool that hashes off the main thread: file contents (batched, streamed from disk
// in the worker) and layer tars as they are written (chunks handed to a worker).
// Created lazily so commands that never hash (run, ps) never start a thread.
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { poolThreads, TASKS_PER_THREAD } from './threads.js';
import type { DeflateBlockTask, DeflatedBlock, HashResult, HashTask } from './types.js';

export { poolThreads };

let pool: Piscina<HashTask, HashResult> | undefined;

/** The worker module beside this one, with our own extension (.js from dist/, .ts under tsx). */
function workerUrl(): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./worker${ext}`, import.meta.url).href;
}

function getPool(): Piscina<HashTask, HashResult> {
  if (!pool) {
    const threads = poolThreads();
    pool = new Piscina<HashTask, HashResult>({
      filename: workerUrl(),
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: 2000,
      // Stream tasks are message-driven, so several interleave in one worker (file batches run
      // synchronously between their messages); the worker's event loop must keep running
      // between tasks for the stream ports, hence no atomics wait.
      concurrentTasksPerWorker: TASKS_PER_THREAD,
      atomics: 'disabled',
    });
  }
  return pool;
}

/** Stops the pool's threads so a CLI process can exit at once. Safe to call when never used. */
export async function closeHashPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p) await p.destroy();
}


/** Deflates one block of a gzip stream in a worker (deflate.ts); its data buffer is transferred. */
export function deflateInPool(task: Omit<DeflateBlockTask, 'kind'>): Promise<DeflatedBlock> {
  const transferList = [task.data, ...(task.dict ? [task.dict] : []), ...(task.target ? [task.target] : [])];
  return getPool().run({ kind: 'deflate', ...task }, { transferList }) as Promise<DeflatedBlock>;
}

/**
 * Files per task: enough that a task amortises its message round trip over many small files,
 * few enough that both threads get work (a big file in a batch only makes that batch longer).
 */
const BATCH_FILES = 64;

/** sha256 hex of each file's content, in the order given. */
export async function hashFiles(paths: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const p = getPool();
  const tasks: Promise<string[]>[] = [];
  for (let i = 0; i < paths.length; i += BATCH_FILES) {
    tasks.push(p.run({ kind: 'files', paths: paths.slice(i, i + BATCH_FILES) }) as Promise<string[]>);
  }
  return (await Promise.all(tasks)).flat();
}

/** sha256 hex of one file's content. */
export async function hashFile(path: string): Promise<string> {
  const [hex] = await hashFiles([path]);
  return hex;
}

export interface StreamHasher {
  /** Copies the chunk and queues it for hashing. Returns false when enough is in flight that the caller should await drained(). */
  update(chunk: Uint8Array): boolean;
  /** Resolves when the bytes in flight fall below the high-water mark. */
  drained(): Promise<void>;
  /** Ends the stream; resolves to the sha256 hex of everything given to update(). */
  digest(): Promise<string>;
}

/** A sha256 of buffers passed through a worker (see createPassHasher). */
export interface PassHasher {
  /**
   * Hands `b` to the worker to hash; resolves to the same bytes (`b` itself is emptied when its
   * memory could be moved: a buffer at the start of its memory gives that memory up, so the
   * caller must keep no other view of it).
   */
  pass(b: Buffer): Promise<Buffer>;
  /** Ends the stream: the sha256 hex of everything passed. */
  digest(): Promise<string>;
}

/**
 * A sha256 computed in a worker without copying: each buffer that owns its whole ArrayBuffer is
 * transferred to the worker, hashed there and transferred back (pass() resolves to it, in
 * order); a buffer that shares its memory is copied first. For big streams whose bytes the
 * caller passes on anyway (an upload): the hashing leaves the caller's thread for a copy-free
 * round trip.
 */
export function createPassHasher(): PassHasher {
  const { port1, port2 } = new MessageChannel();
  const result = getPool().run({ kind: 'stream', port: port2 }, { transferList: [port2] }) as Promise<string>;
  const waiting: { resolve(b: Buffer): void; reject(err: unknown): void }[] = [];
  result.catch((err: unknown) => {
    for (const w of waiting.splice(0)) w.reject(err);
  });
  port1.unref();
  port1.on('message', (back: ArrayBuffer | { buffer: ArrayBuffer; length: number }) =>
    waiting.shift()?.resolve(back instanceof ArrayBuffer ? Buffer.from(back) : Buffer.from(back.buffer, 0, back.length)));
  let ended = false;
  return {
    pass(b: Buffer): Promise<Buffer> {
      if (ended) throw new Error('hash stream already ended');
      // Memory that starts with the buffer moves as it is: all of it, or a longer block (a stored
      // block written into reused memory) that cannot be Node's shared pool of small buffers.
      const owned = b.byteOffset === 0 && b.buffer instanceof ArrayBuffer;
      const back = new Promise<Buffer>((resolve, reject) => waiting.push({ resolve, reject }));
      if (owned && b.buffer.byteLength === b.length) port1.postMessage(b.buffer, [b.buffer]);
      else if (owned && b.buffer.byteLength > Buffer.poolSize) port1.postMessage({ buffer: b.buffer, length: b.length }, [b.buffer]);
      else {
        const copy = Uint8Array.prototype.slice.call(b).buffer as ArrayBuffer;
        port1.postMessage(copy, [copy]);
      }
      return back;
    },
    async digest(): Promise<string> {
      if (!ended) {
        ended = true;
        port1.postMessage(null);
      }
      try {
        return await result;
      } finally {
        port1.close();
      }
    },
  };
}

const BATCH = 1024 * 1024;
const HIGH_WATER = 8 * BATCH;

/**
 * A sha256 computed in a worker. Chunks are copied into 1 MiB batches whose ArrayBuffers are
 * transferred (not cloned) to the worker; the caller's buffers stay untouched.
 */
export function createStreamHasher(): StreamHasher {
  const { port1, port2 } = new MessageChannel();
  const result = getPool().run({ kind: 'stream', port: port2 }, { transferList: [port2] }) as Promise<string>;
  // Full batches come back from the worker and are reused: at most HIGH_WATER / BATCH + 1 exist.
  const free: Buffer<ArrayBuffer>[] = [];
  let batch = Buffer.allocUnsafeSlow(BATCH);
  let used = 0;
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  let ended = false;
  // An abandoned hasher must not keep the process alive; the running task keeps it alive otherwise.
  port1.unref();
  port1.on('message', (back: ArrayBuffer) => {
    inFlight -= back.byteLength;
    if (back.byteLength === BATCH) free.push(Buffer.from(back));
    if (inFlight < HIGH_WATER) {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    }
  });
  const flush = () => {
    if (used === 0) return;
    // allocUnsafeSlow gives the batch its own ArrayBuffer, so transferring it detaches nothing else.
    const payload = used === BATCH ? batch.buffer : batch.buffer.slice(0, used);
    port1.postMessage(payload, [payload]);
    inFlight += used;
    batch = free.pop() ?? Buffer.allocUnsafeSlow(BATCH);
    used = 0;
  };
  return {
    update(chunk: Uint8Array): boolean {
      if (ended) throw new Error('hash stream already ended');
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(BATCH - used, chunk.length - off);
        batch.set(chunk.subarray(off, off + n), used);
        used += n;
        off += n;
        if (used === BATCH) flush();
      }
      return inFlight < HIGH_WATER;
    },
    drained(): Promise<void> {
      if (inFlight < HIGH_WATER) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    async digest(): Promise<string> {
      if (!ended) {
        ended = true;
        flush();
        port1.postMessage(null);
      }
      try {
        return await result;
      } finally {
        port1.close();
      }
    },
  };
}
