// Messages between the hash pool (pool.ts) and its worker (worker.ts). Plain data only.
import type { MessagePort } from 'node:worker_threads';

/** sha256 of each file's content, in order. */
export interface HashFilesTask {
  kind: 'files';
  paths: string[];
}

/**
 * A streamed hash: chunks arrive on `port` as ArrayBuffers; `null` ends the stream. The worker
 * acknowledges each chunk by transferring its ArrayBuffer back (the sender reuses it and bounds
 * what is in flight), and the task's result is the hex digest.
 */
export interface HashStreamTask {
  kind: 'stream';
  port: MessagePort;
}

export type HashTask = HashFilesTask | HashStreamTask;
export type HashResult = string[] | string;
