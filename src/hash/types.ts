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

/**
 * One block of a pigz-style gzip stream (deflate.ts): raw deflate of `data` primed with the
 * 32 KiB before it (`dict`), ended by a sync flush (or the final block). `data` is transferred.
 */
export interface DeflateBlockTask {
  kind: 'deflate';
  data: ArrayBuffer;
  dict: ArrayBuffer | null;
  last: boolean;
  level: number;
  /** Memory for the output if the block is stored (storedSize bytes at least), moved here. */
  target?: ArrayBuffer;
}

export type HashTask = HashFilesTask | HashStreamTask | DeflateBlockTask;
/** A deflated block and the crc32 of its input (the stream's crc is combined from them). */
export interface DeflatedBlock {
  out: ArrayBuffer;
  /** The output's length when `out` is longer (a stored block written into the task's target). */
  length?: number;
  crc: number;
  /** The task's input, handed back (a pool worker moves it back for reuse). */
  data?: ArrayBuffer;
  /** The task's target, unused (the block was deflated). */
  spare?: ArrayBuffer;
}

export type HashResult = string[] | string | DeflatedBlock;
