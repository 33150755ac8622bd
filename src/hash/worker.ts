// The hash pool's worker: file content hashes (read in 1 MiB chunks, so a large file is
// never held in memory), streamed hashes fed through a MessagePort, and deflated blocks of
// a gzip stream compressed on every core (deflate.ts).
import { createHash } from 'node:crypto';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { deflateBlock } from './deflate-block.js';
import { hashFileSync, READ_CHUNK } from './file-hash.js';
import type { DeflatedBlock, HashResult, HashTask, HashStreamTask } from './types.js';

let shared: Buffer | undefined;

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
    const moved = [...new Set([block.out, task.data, ...(block.spare ? [block.spare] : [])])];
    return Promise.resolve(move({ [transferableSymbol]: moved, [valueSymbol]: block }) as unknown as DeflatedBlock);
  }
  return hashStream(task);
}
