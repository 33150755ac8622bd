// STRATA_TIMING=1: where a container start spends its time, as milestones on stderr in ms since
// the process started (bench/run.mjs reads them for its breakdown). A process started on the
// command's behalf (the shim) is given the command's time origin in STRATA_TIMING_ORIGIN, so its
// milestones (in shim.log) read on the command's clock.
const enabled = Boolean(process.env.STRATA_TIMING);
const offset = enabled && process.env.STRATA_TIMING_ORIGIN ? performance.timeOrigin - Number(process.env.STRATA_TIMING_ORIGIN) : 0;

export function timing(what: string): void {
  if (enabled) process.stderr.write(`timing: ${what} ${(performance.now() + offset).toFixed(1)} ms\n`);
}

/** The environment entry that puts a child's milestones on this process's clock. */
export function timingOrigin(): Record<string, string> {
  return enabled ? { STRATA_TIMING_ORIGIN: String(process.env.STRATA_TIMING_ORIGIN ?? performance.timeOrigin) } : {};
}
