// The planner: a Dockerfile's instructions become stages, the stages a DAG (FROM stage,
// COPY --from, RUN --mount from=), pruned to what the target needs and ordered so that every
// stage comes after the ones it reads. Global ARGs (before the first FROM) are expanded in
// FROM lines here; everything inside a stage is expanded later, step by step (steps.ts).
import type { Dockerfile } from '../parser/index.js';
import { platformArgs, PROXY_ARGS, type Platform } from './args.js';
import { BuildError, errors } from './errors.js';
import { toCommand, type ArgCmd, type Command, type FromCmd } from './instructions.js';
import { processWord, type Vars } from './shell-words.js';

export type StageBase =
  | { kind: 'scratch' }
  | { kind: 'image'; ref: string }
  | { kind: 'stage'; index: number };

export interface Stage {
  index: number;
  /** The `AS name`, lower case. */
  name?: string;
  from: FromCmd;
  /** The base as named after ARG expansion (`FROM ${BASE}` with BASE=alpine: "alpine"). */
  image: string;
  base: StageBase;
  /** The instructions after FROM, in order. */
  commands: Command[];
  /** Indexes of the stages this one reads (its base, COPY --from, RUN --mount from=). */
  deps: number[];
  /** For each dep, the Dockerfile line that first reads it (FROM, COPY --from, RUN --mount). */
  depLines: Map<number, number>;
  platform?: string;
}

export interface Plan {
  file: string;
  escapeToken: string;
  stages: Stage[];
  /** The stage the build produces. */
  target: number;
  /** Stages to build, dependencies first; stages the target does not need are left out. */
  order: number[];
  /** Values of the global ARGs (after --build-arg), as FROM lines see them. */
  globalArgs: Map<string, string | undefined>;
  buildArgs: Record<string, string>;
  warnings: string[];
}

export interface PlanOptions {
  /** Name of the Dockerfile in messages ("Dockerfile", "app.Dockerfile"). */
  file?: string;
  buildArgs?: Record<string, string>;
  target?: string;
  platform: Platform;
}

const STAGE_NAME = /^[a-z][a-z0-9._-]*$/;

export function plan(df: Dockerfile, options: PlanOptions): Plan {
  const file = options.file ?? 'Dockerfile';
  const buildArgs = options.buildArgs ?? {};
  const commands = df.instructions.map((i) => toCommand(i, file));
  const globalArgs = new Map<string, string | undefined>(Object.entries(platformArgs(options.platform)));
  const declared = new Set<string>();
  const stages: Stage[] = [];

  for (const cmd of commands) {
    if (cmd.kind === 'FROM') {
      stages.push(newStage(cmd, stages, globalArgs, file, df.escapeToken));
    } else if (stages.length === 0) {
      if (cmd.kind !== 'ARG') throw new BuildError(errors.noFrom(), { file, line: cmd.line });
      declareGlobal(cmd, globalArgs, buildArgs, declared, file, df.escapeToken);
    } else {
      stages[stages.length - 1].commands.push(cmd);
    }
  }
  if (stages.length === 0) throw new BuildError(errors.noFrom(), { file, line: 1 });

  for (const stage of stages) {
    stage.depLines = stageDeps(stage, stages, globalArgs, file, df.escapeToken);
    stage.deps = [...stage.depLines.keys()];
  }
  const target = findTarget(stages, options.target);
  const order = topoOrder(stages, target, file);
  const warnings = unusedArgWarnings(stages, order, buildArgs, declared);
  return { file, escapeToken: df.escapeToken, stages, target, order, globalArgs, buildArgs, warnings };
}

function declareGlobal(cmd: ArgCmd, globals: Map<string, string | undefined>, buildArgs: Record<string, string>, declared: Set<string>, file: string, escape: string) {
  for (const { key, value } of cmd.args) {
    declared.add(key);
    let v: string | undefined;
    try {
      v = value === undefined ? undefined : processWord(value, globals, escape).value;
    } catch (err) {
      throw new BuildError((err as Error).message, { file, line: cmd.line });
    }
    globals.set(key, key in buildArgs ? buildArgs[key] : v);
  }
}

function newStage(cmd: FromCmd, stages: Stage[], lookup: Vars, file: string, escape: string): Stage {
  const at = { file, line: cmd.line };
  let image: string;
  try {
    image = processWord(cmd.image, lookup, escape).value;
  } catch (err) {
    throw new BuildError((err as Error).message, at);
  }
  if (!image) throw new BuildError(`base name (${cmd.image}) should not be blank`, at);
  if (cmd.stageName !== undefined) {
    if (!STAGE_NAME.test(cmd.stageName)) throw new BuildError(errors.badStageName(cmd.stageName), at);
    if (stages.some((s) => s.name === cmd.stageName)) throw new BuildError(errors.duplicateStage(cmd.stageName), at);
  }
  const lower = image.toLowerCase();
  const prior = stages.find((s) => s.name === lower);
  const base: StageBase = prior ? { kind: 'stage', index: prior.index }
    : lower === 'scratch' ? { kind: 'scratch' } : { kind: 'image', ref: image };
  const platform = cmd.platform ? processWord(cmd.platform, lookup, escape).value : undefined;
  return { index: stages.length, name: cmd.stageName, from: cmd, image, base, commands: [], deps: [], depLines: new Map(), platform };
}

/** Resolves a `--from` value: a stage (by name or index) or, otherwise, an image reference. */
export function resolveFrom(value: string, stages: Stage[]): { stage: number } | { image: string } {
  const lower = value.toLowerCase();
  const named = stages.find((s) => s.name === lower);
  if (named) return { stage: named.index };
  if (/^[0-9]+$/.test(value)) {
    const i = Number(value);
    if (i >= stages.length) throw new Error(`invalid stage index ${i}`);
    return { stage: i };
  }
  return { image: value };
}

/** `from=` of a RUN --mount value, if any. */
export function mountFrom(spec: string): string | undefined {
  for (const part of spec.split(',')) {
    const [k, v] = part.split('=', 2);
    if (k.trim().toLowerCase() === 'from' && v) return v.trim();
  }
  return undefined;
}

function stageDeps(stage: Stage, stages: Stage[], lookup: Vars, file: string, escape: string): Map<number, number> {
  const deps = new Map<number, number>();
  if (stage.base.kind === 'stage') deps.set(stage.base.index, stage.from.line);
  for (const cmd of stage.commands) {
    const froms = cmd.kind === 'COPY' && cmd.from ? [cmd.from] : cmd.kind === 'RUN' ? cmd.mounts.map(mountFrom).filter((f): f is string => !!f) : [];
    for (const raw of froms) {
      try {
        const ref = resolveFrom(processWord(raw, lookup, escape).value, stages);
        if ('stage' in ref && !deps.has(ref.stage)) deps.set(ref.stage, cmd.line);
      } catch (err) {
        throw new BuildError((err as Error).message, { file, line: cmd.line });
      }
    }
  }
  return deps;
}

function findTarget(stages: Stage[], target: string | undefined): number {
  if (target === undefined) return stages.length - 1;
  const found = stages.find((s) => s.name === target.toLowerCase());
  if (!found) throw new BuildError(errors.noSuchTarget(target));
  return found.index;
}

/**
 * Depth-first order from the target; a stage met again while on the path is a cycle, reported
 * at the line of the instruction that closes it (the COPY --from or mount reading back up the path).
 */
function topoOrder(stages: Stage[], target: number, file: string): number[] {
  const order: number[] = [];
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (i: number, path: number[]) => {
    if (state.get(i) === 'done') return;
    if (state.get(i) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(i)), i].map((n) => stages[n].name ?? String(n));
      const closer = stages[path[path.length - 1]];
      throw new BuildError(errors.stageCycle(cycle), { file, line: closer.depLines.get(i) ?? closer.from.line });
    }
    state.set(i, 'visiting');
    for (const d of stages[i].deps) visit(d, [...path, i]);
    state.set(i, 'done');
    order.push(i);
  };
  visit(target, []);
  return order;
}

function unusedArgWarnings(stages: Stage[], order: number[], buildArgs: Record<string, string>, globalDeclared: Set<string>): string[] {
  const declared = new Set<string>([...PROXY_ARGS, ...globalDeclared]);
  for (const i of order) {
    for (const cmd of stages[i].commands) if (cmd.kind === 'ARG') for (const a of cmd.args) declared.add(a.key);
  }
  const unused = Object.keys(buildArgs).filter((k) => !declared.has(k) && !(k in platformArgs({ os: '', architecture: '' })));
  return unused.length ? [`[Warning] One or more build-args [${unused.join(' ')}] were not consumed`] : [];
}
