// Reading a `strata build --progress plain` log as a test sees it: one row per step (FROM
// rows left out), whether it was CACHED, and the reason of a miss.

export interface StepRow {
  /** "[stage n/m] INSTRUCTION" */
  step: string;
  cached: boolean;
  reason?: string;
}

export function buildSteps(stderr: string): StepRow[] {
  const byId = new Map<string, StepRow>();
  for (const line of stderr.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [, id, rest] = m;
    if (!byId.has(id)) {
      if (rest.startsWith('[')) byId.set(id, { step: rest, cached: false });
      continue;
    }
    const s = byId.get(id)!;
    if (rest === 'CACHED') s.cached = true;
    const miss = /^cache miss: (.*)$/.exec(rest);
    if (miss) s.reason = miss[1];
  }
  return [...byId.values()].filter((s) => !/ FROM /.test(s.step));
}
