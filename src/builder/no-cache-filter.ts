// `--no-cache-filter STAGE`, as BuildKit applies it: the named stages rebuild, and so does
// everything built on their output. Keys hash inputs, not results, so a dependent step's key
// does not change when a filtered stage reruns: the forcing is carried here, step by step.
import type { Plan } from './planner.js';
import type { PreparedStage, PreparedStep } from './prepare.js';

/**
 * The steps that must not come from the cache, each with its miss reason. Within a stage a
 * forced step forces every later one; a stage whose output was rebuilt forces the stages
 * built FROM it and the first step reading it (COPY --from, RUN --mount from=).
 */
export function forcedSteps(plan: Plan, stages: Map<number, PreparedStage>, filtered: Set<number>): Map<PreparedStep, string> {
  const forced = new Map<PreparedStep, string>();
  /** Stages whose output is a rebuild -> the filtered stage it comes from. */
  const rebuilt = new Map<number, string>();
  for (const index of plan.order) {
    const ps = stages.get(index)!;
    let reason: string | undefined;
    let root: string | undefined;
    if (filtered.has(index)) {
      root = ps.label;
      reason = `cache disabled for stage ${root} (--no-cache-filter)`;
    } else if (ps.baseStage !== undefined && rebuilt.has(ps.baseStage)) {
      root = rebuilt.get(ps.baseStage)!;
      reason = dependsOn(root);
    }
    for (const step of ps.steps) {
      const dep = reason === undefined ? readStages(step).find((d) => rebuilt.has(d)) : undefined;
      if (dep !== undefined) {
        root = rebuilt.get(dep)!;
        reason = dependsOn(root);
      }
      if (reason !== undefined) forced.set(step, reason);
    }
    if (root !== undefined) rebuilt.set(index, root);
  }
  return forced;
}

const dependsOn = (stage: string) => `depends on stage ${stage} (--no-cache-filter)`;

function readStages(step: PreparedStep): number[] {
  const a = step.action;
  if (a.type === 'copy') return a.from && 'stage' in a.from ? [a.from.stage] : [];
  if (a.type === 'run') return a.mounts.flatMap((m) => ((m.type === 'bind' || m.type === 'cache') && m.fromStage !== undefined ? [m.fromStage] : []));
  return [];
}
