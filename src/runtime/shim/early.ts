// The shim that cli/early-shim.cts spawned before the run code loaded (see there), taken by
// the run's startShim() (client.ts) or let go when the run turns out to need none.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';

export interface EarlyShim {
  child: ChildProcess;
  /** Its stderr until "go DIR": a log in the state root's tmp/, renamed into DIR by the starter. */
  log: string;
  /** The news pipe, read from the spawn on: what came so far and what comes go to LISTEN, then END. */
  news(listen: (text: string) => void, end: () => void): void;
}

const EARLY_SHIM = Symbol.for('strata.earlyShim');
const slot = globalThis as Record<symbol, EarlyShim | undefined>;

/** The waiting early shim, once: the caller owns it from then on. */
export function takeEarlyShim(): EarlyShim | undefined {
  const early = slot[EARLY_SHIM];
  slot[EARLY_SHIM] = undefined;
  return early;
}

/** Lets the early shim (if any) go: its stdin closes, it exits and removes its log. */
export function releaseEarlyShim(early: EarlyShim | undefined = takeEarlyShim()): void {
  if (!early) return;
  early.child.stdin?.end();
  (early.child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
  fs.rmSync(early.log, { force: true });
}
