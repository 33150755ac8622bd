// The hash pool's worker: file content hashes (read in 1 MiB chunks, so a large file is
// never held in memory), streamed hashes fed through a MessagePort, and deflated blocks of
// a gzip stream compressed on every core (deflate.ts).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { deflateBlock } from './deflate-block.js';
import { hashFileSync, READ_CHUNK } from './file-hash.js';
import type { DeflatedBlock, HashResult, HashTask, HashStreamTask } from './types.js';

let shared: Buffer | undefined;

/**
 * piscina moves a result's buffers back (instead of copying them) when the result carries its
 * private kMovable symbol, which only its index module's move() sets; loading that module cost
 * each worker 20-50 ms of its start, so the symbol is read from the module piscina's own worker
 * code has loaded. A piscina without it gets results copied: correct, only slower.
 */
const kMovable = ((): symbol | undefined => {
  try {
    const require = createRequire(import.meta.url);
    const symbols = require(path.join(path.dirname(require.resolve('piscina')), 'symbols.js')) as { kMovable?: unknown };
    return typeof symbols.kMovable === 'symbol' ? symbols.kMovable : undefined;
  } catch {
    return undefined;
  }
})();

/** `value`, with `transfer` moved to the caller rather than copied. */
function moved<T extends object>(value: T, transfer: ArrayBuffer[]): T {
  if (!kMovable) return value;
  return { [kMovable]: true, [Symbol.for('Piscina.transferable')]: transfer, [Symbol.for('Piscina.valueOf')]: value } as unknown as T;
}

// Synchronous reads: a worker thread has nothing else to do meanwhile, and sync I/O avoids
// four libuv round trips per file (open, read, read, close) through a pool of 4 threads.
function hashFiles(paths: string[]): string[] {
  shared ??= Buffer.allocUnsafe(READ_CHUNK);
  return paths.map((p) => hashFileSync(p, shared!));
}

function hashStream(task: HashStreamTask): Promise<string> {
  const hash = createHash('sha256');
  const { port } = task;
  return new Promise((resolve) => {
    port.on('message', (msg: ArrayBuffer | { buffer: ArrayBuffer; length: number } | null) => {
      if (msg === null) {
        port.close();
        resolve(hash.digest('hex'));
        return;
      }
      // A buffer whose first `length` bytes are the data (a stored block in a longer one).
      if (!(msg instanceof ArrayBuffer)) {
        hash.update(new Uint8Array(msg.buffer, 0, msg.length));
        port.postMessage(msg, [msg.buffer]);
        return;
      }
      hash.update(new Uint8Array(msg));
      // Handed back for reuse: a buffer left to this isolate's GC lingers (the worker allocates
      // too little to trigger one), and a layer's worth of them made most of a build's memory.
      port.postMessage(msg, [msg]);
    });
  });
}

export default function run(task: HashTask): Promise<HashResult> {
  if (task.kind === 'files') return Promise.resolve(hashFiles(task.paths));
  if (task.kind === 'deflate') {
    // Moved back, not copied: the output, and the input for the caller to reuse (a buffer left
    // here lingers until this isolate's GC, see above).
    const block: DeflatedBlock = { ...deflateBlock(task), data: task.data };
    const transfer = [...new Set([block.out, task.data, ...(block.spare ? [block.spare] : [])])];
    return Promise.resolve(moved(block, transfer));
  }
  return hashStream(task);
}
