// STRATA_TIMING=1: where a container start spends its time, as milestones on stderr in ms since
// the process started (bench/run.mjs reads them for its breakdown).
const enabled = Boolean(process.env.STRATA_TIMING);

export function timing(what: string): void {
  if (enabled) process.stderr.write(`timing: ${what} ${performance.now().toFixed(1)} ms\n`);
}
