// The pool's size, known without loading the pool (piscina): its threads, and the tasks each
// runs at once. Stream tasks (a hash fed chunk by chunk) hold their slot until their stream
// ends, so a caller that opens several must leave slots for the tasks those streams wait on.
import os from 'node:os';

/** Tasks one pool thread runs at once (stream tasks interleave; see pool.ts). */
export const TASKS_PER_THREAD = 4;

/** Threads the pool runs (its callers size their queues by it). */
export function poolThreads(): number {
  return Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
}
