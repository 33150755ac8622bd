// Cache keys as explicit data (like BuildKit's CacheMap): a step's key is the sha256 of the
// canonical JSON of its inputs. The inputs are stored with the key, so a later miss can be
// explained by diffing them against the most recent entry of the same step.
import { createHash } from 'node:crypto';

export interface KeyInputs {
  /** What kind of step: "FROM", "RUN", "COPY", "ADD", "WORKDIR". */
  type: string;
  /** The previous step's key (the base image ID for the first step). */
  parent: string;
  /** The instruction with its variables expanded. */
  instruction: string;
  /** Build args visible to the step (name -> value). */
  args?: Record<string, string>;
  /** The stage's environment at the step ("K=V"). */
  env?: string[];
  /** Other settings that change the result: user, workdir, shell, network, mounts... */
  settings?: Record<string, string>;
  /** COPY/ADD: each selected context file -> "sha256 mode" ("dir mode", "link -> target"). */
  files?: Record<string, string>;
  /** Keys or image IDs of other stages and images the step reads (COPY --from, mounts). */
  sources?: Record<string, string>;
}

/** JSON with object keys sorted at every level: the same data always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function cacheKey(inputs: KeyInputs): string {
  return createHash('sha256').update(canonicalJson(inputs)).digest('hex');
}

/**
 * One line saying why `now` missed, given the inputs of the latest entry of the same step.
 * The first difference in the order a user would look for it wins: the parent, then files,
 * build args, env, the instruction itself, other settings.
 */
export function explainMiss(now: KeyInputs, before: KeyInputs | undefined): string {
  if (!before) return 'no earlier build of this step';
  if (before.parent !== now.parent) return 'parent step changed';
  const files = diffFiles(before.files ?? {}, now.files ?? {});
  if (files) return files;
  const src = changedKeys(before.sources ?? {}, now.sources ?? {});
  if (src.length) return `${src[0]} changed`;
  const args = changedKeys(before.args ?? {}, now.args ?? {});
  if (args.length) return `build arg ${args.join(', ')} changed`;
  const env = changedKeys(envMap(before.env), envMap(now.env));
  if (env.length) return `env ${env.join(', ')} changed`;
  if (before.instruction !== now.instruction) return `instruction changed (was: ${before.instruction})`;
  const settings = changedKeys(before.settings ?? {}, now.settings ?? {});
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

/** "src/d005/f00005.txt changed (2 files changed, 1 added)", naming the first change. */
function diffFiles(before: Record<string, string>, now: Record<string, string>): string | undefined {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [p, v] of Object.entries(now)) {
    if (!(p in before)) added.push(p);
    else if (before[p] !== v) changed.push(p);
  }
  for (const p of Object.keys(before)) if (!(p in now)) removed.push(p);
  const total = changed.length + added.length + removed.length;
  if (total === 0) return undefined;
  const [first, verb] = changed.length ? [changed.sort()[0], 'changed'] : added.length ? [added.sort()[0], 'added'] : [removed.sort()[0], 'removed'];
  if (total === 1) return `${first} ${verb}`;
  const parts: string[] = [];
  if (changed.length) parts.push(`${changed.length} file${changed.length > 1 ? 's' : ''} changed`);
  if (added.length) parts.push(`${added.length} added`);
  if (removed.length) parts.push(`${removed.length} removed`);
  return `${first} ${verb} (${parts.join(', ')})`;
}
