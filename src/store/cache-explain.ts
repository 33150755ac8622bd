// Why a step missed, in one line: the recorded inputs of the entry it is compared with against
// its own, the first difference in the order a user would look for it. Every cache backend
// explains with this, so a miss reads the same wherever the cache lives.
import type { KeyInputs } from './build-cache.js';

export interface ExplainContext {
  /** The earlier instruction as it was shown ("RUN make"): what "instruction changed" quotes. */
  step?: string;
  /** What the parent stands for when it is not a step ("base image busybox", "stage build"). */
  base?: string;
}

/**
 * The parent first (naming the base image or stage when the parent is one), then files,
 * stages and images read, build args, env, the instruction itself, other settings.
 */
export function explainMiss(now: KeyInputs, was: KeyInputs | undefined, context: ExplainContext = {}): string {
  if (!was) return 'no earlier build of this step';
  if (was.parent !== now.parent) return context.base ? `${context.base} changed` : 'parent step changed';
  const files = diffFiles(was.files ?? {}, now.files ?? {});
  if (files) return files;
  const src = changedKeys(was.sources ?? {}, now.sources ?? {});
  if (src.length) return `${src[0]} changed`;
  const args = changedKeys(was.args ?? {}, now.args ?? {});
  // A new value of an arg both had explains a miss of the same command; an arg only one of them
  // had (another stage's ARG) does not when the command itself differs.
  const argValues = args.filter((k) => k in (was.args ?? {}) && k in (now.args ?? {}));
  if (argValues.length) return `build arg ${argValues.join(', ')} changed`;
  const instructionChanged = was.instruction !== now.instruction;
  if (args.length && !instructionChanged) return `build arg ${args.join(', ')} changed`;
  const env = changedKeys(envMap(was.env), envMap(now.env));
  if (env.length) return `env ${env.join(', ')} changed`;
  if (instructionChanged) return `instruction changed (was: ${context.step ?? was.instruction})`;
  const settings = changedKeys(was.settings ?? {}, now.settings ?? {});
  if (settings.length) return `${settings.join(', ')} changed`;
  return 'cache entry no longer usable';
}

function envMap(env: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of env ?? []) {
    const eq = kv.indexOf('=');
    out[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return out;
}

function changedKeys(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}

/**
 * "src/a.txt changed", "src/b.txt mode changed (644 -> 755)", "src/link target changed
 * (a.txt -> b.txt)", "src/c.txt renamed to src/e.txt", "src/d.txt added": the first change
 * named, the others counted ("src/a.txt changed (2 files changed, 1 added)").
 */
function diffFiles(before: Record<string, string>, now: Record<string, string>): string | undefined {
  const changed: string[] = [];
  let added: string[] = [];
  let removed: string[] = [];
  for (const [p, v] of Object.entries(now)) {
    if (!(p in before)) added.push(p);
    else if (before[p] !== v) changed.push(p);
  }
  for (const p of Object.keys(before)) if (!(p in now)) removed.push(p);
  // A removed path whose content (hash and mode) reappears under an added one was renamed.
  const renamed: [string, string][] = [];
  const addedByValue = new Map<string, string>();
  for (const p of added.sort()) if (!addedByValue.has(now[p])) addedByValue.set(now[p], p);
  for (const p of removed.sort()) {
    const to = addedByValue.get(before[p]);
    if (to === undefined) continue;
    addedByValue.delete(before[p]);
    renamed.push([p, to]);
  }
  added = added.filter((p) => !renamed.some(([, to]) => to === p));
  removed = removed.filter((p) => !renamed.some(([from]) => from === p));
  const total = changed.length + renamed.length + added.length + removed.length;
  if (total === 0) return undefined;
  changed.sort();
  let first: string;
  let detail: string | undefined;
  if (changed.length) [first, detail] = describeChange(changed[0], before[changed[0]], now[changed[0]]);
  else if (renamed.length) first = `${renamed[0][0]} renamed to ${renamed[0][1]}`;
  else if (added.length) first = `${added[0]} added`;
  else first = `${removed[0]} removed`;
  const counts: string[] = [];
  if (total > 1) {
    if (changed.length) counts.push(`${changed.length} file${changed.length > 1 ? 's' : ''} changed`);
    if (renamed.length) counts.push(`${renamed.length} renamed`);
    if (added.length) counts.push(`${added.length} added`);
    if (removed.length) counts.push(`${removed.length} removed`);
  }
  const notes = [detail, counts.join(', ')].filter(Boolean).join('; ');
  return notes ? `${first} (${notes})` : first;
}

/** A changed path's own words: a mode or a symlink target said as such, content just "changed". */
function describeChange(p: string, was: string, now: string): [string, string | undefined] {
  const link = /^link -> /;
  if (link.test(was) && link.test(now)) return [`${p} target changed`, `${was.replace(link, '')} -> ${now.replace(link, '')}`];
  const [wasContent, wasMode] = splitLast(was);
  const [nowContent, nowMode] = splitLast(now);
  if (wasContent === nowContent && wasMode !== nowMode) return [`${p} mode changed`, `${wasMode} -> ${nowMode}`];
  return [`${p} changed`, undefined];
}

function splitLast(value: string): [string, string] {
  const sp = value.lastIndexOf(' ');
  return sp < 0 ? [value, ''] : [value.slice(0, sp), value.slice(sp + 1)];
}
