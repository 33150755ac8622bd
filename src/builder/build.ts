// `strata build` as a library call: parse, plan, open the context, prepare every step's key,
// execute what the cache does not have, and write the image. The CLI only gathers options
// and renders; tests and benchmarks can call this directly.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, ParseError, type Dockerfile } from '../parser/index.js';
import { timing } from '../timing.js';
import type { ContainerRunner, NetworkMode } from '../runtime/index.js';
import { sweepLeftovers } from '../runtime/index.js';
import { buildScratchDir, CacheIndex, type BuildCache, type Image, type ImageStore } from '../store/index.js';
import { writing } from '../errors.js';
import { hostPlatform, platformString, type Platform } from './args.js';
import { ensureEmulation } from './emulation.js';
import { BuildContext, statCacheFileFor } from './context.js';
import { parseIgnoreFile, type IgnoreMatcher } from './dockerignore.js';
import { BuildError, sourceSnippet } from './errors.js';
import { execute, type ExecuteOptions, type StepRecord } from './executor.js';
import { plan } from './planner.js';
import { prepare, type PreparedStage, type StepParent } from './prepare.js';
import type { Reporter } from './progress.js';
import { SshAgents, type SshSpecs } from './ssh-mount.js';
import type { SecretSource } from './mounts.js';

export interface BuildOptions {
  stateRoot: string;
  store: ImageStore & { hasLayer(diffId: string): Promise<boolean> };
  runner: ContainerRunner;
  reporter: Reporter;
  /** Where steps are looked up and recorded (default: the state root's local cache). */
  cache?: BuildCache;
  contextDir: string;
  /** The Dockerfile's text and how messages name it; `path` locates NAME.dockerignore. */
  dockerfile: { text: string; name: string; path?: string };
  tags?: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  noCache?: boolean;
  noCacheFilter?: string[];
  labels?: Record<string, string>;
  network?: NetworkMode;
  /** Several builds shown as one (--platform a,b): a label prefix and one step counter. */
  stepLabels?: ExecuteOptions['stepLabels'];
  /** The platform built for (default: the host's); RUN steps of another architecture run under qemu. */
  platform?: Platform;
  /** `--secret`: by id, a host file or a value (see SecretSource). */
  secrets?: ReadonlyMap<string, SecretSource>;
  /** `--ssh`: agents to forward to RUN --mount=type=ssh, by id. */
  ssh?: SshSpecs;
  sourceDateEpoch?: number;
  signal?: AbortSignal;
  /** Remember context hashes across builds (off for a throwaway context, e.g. a tar from stdin). */
  statCache?: boolean;
  /** Steps executing at once (default: the number of cores). */
  concurrency?: number;
  /**
   * How a base image (FROM, COPY --from, RUN --mount from=) is found: by default the store's
   * own; the CLI passes one that pulls what is missing (or everything, with --pull).
   */
  resolveImage?: (ref: string, platform: Platform) => Promise<Image>;
  /** Print every step's key inputs (after preparing, before executing). */
  explain?: (stages: PreparedStage[]) => void;
  /** Told each step's parent key while the steps are prepared (see StepParent). */
  onStepParent?: (p: StepParent) => void;
}

export interface BuildResult {
  image: Image;
  steps: StepRecord[];
  seconds: number;
  summary: string;
  /** Context files read and hashed (the stat cache missed). */
  hashedFiles: number;
}

export async function build(o: BuildOptions): Promise<BuildResult> {
  // Agents are up before anything else: bad --ssh values fail first, and git@ sources are
  // resolved (while preparing) through the default agent.
  const ssh = o.ssh?.size ? await SshAgents.open(o.ssh, o.stateRoot) : undefined;
  try {
    return await buildWith(o, ssh);
  } catch (err) {
    if (err instanceof BuildError && err.location?.file === o.dockerfile.name && !err.snippet) {
      const { file, line } = err.location;
      const end = instructionEnd(o.dockerfile.text, line);
      // A column the message did not know is only shown by the caret: the one line keeps FILE:LINE.
      const column = err.location.column ?? columnOf(o.dockerfile.text, line, end, err.detail);
      err.snippet = sourceSnippet(o.dockerfile.text, file, line, end, column);
    }
    throw err;
  } finally {
    await ssh?.close();
  }
}

async function buildWith(o: BuildOptions, ssh: SshAgents | undefined): Promise<BuildResult> {
  timing('build: begun');
  const started = Date.now();
  const df = parseDockerfile(o.dockerfile.text, o.dockerfile.name);
  const platform = o.platform ?? hostPlatform();
  const buildArgs = o.buildArgs ?? {};
  const p = plan(df, { file: o.dockerfile.name, buildArgs, target: o.target, platform });
  for (const w of p.warnings) o.reporter.warn(w);
  const noCacheStages = new Set<number>();
  for (const name of o.noCacheFilter ?? []) {
    const s = p.stages.find((x) => x.name === name.toLowerCase() || String(x.index) === name);
    if (!s) throw new BuildError(`no-cache-filter: stage "${name}" not found`);
    noCacheStages.add(s.index);
  }
  timing('build: planned');
  const context = await BuildContext.open(o.contextDir, {
    ignore: await readIgnore(o.contextDir, o.dockerfile.path),
    statCacheFile: o.statCache === false ? undefined : statCacheFileFor(o.stateRoot, o.contextDir),
    onHashProgress: (done, total) => o.reporter.hashing(done, total),
  });
  timing('build: context opened');
  const sde = o.sourceDateEpoch ?? (buildArgs.SOURCE_DATE_EPOCH !== undefined ? Number(buildArgs.SOURCE_DATE_EPOCH) : undefined);
  if (sde !== undefined && !(Number.isInteger(sde) && sde >= 0)) throw new BuildError(`invalid SOURCE_DATE_EPOCH: "${sde}"`);
  const stages = await prepare({
    plan: p, context, platform, network: o.network ?? 'host', secrets: o.secrets ?? new Map(),
    slotPrefix: `${path.resolve(o.contextDir)}\0${o.dockerfile.path ? path.resolve(o.dockerfile.path) : o.dockerfile.name}`,
    resolveImage: o.resolveImage ?? ((ref) => o.store.resolveImage(ref)),
    parseTrigger: (line) => {
      const parsed = parseDockerfile(line, o.dockerfile.name);
      if (parsed.instructions.length !== 1) throw new BuildError(`invalid ONBUILD trigger: "${line}"`);
      return parsed.instructions[0];
    },
    sourceDateEpoch: sde, gitSshAuthSock: ssh?.socket('default'), onStepParent: o.onStepParent,
  });
  // A base image of another platform is used as it is (as BuildKit does), with a warning.
  for (const ps of stages.values()) {
    const b = ps.baseImage?.config;
    if (b && (b.architecture !== ps.platform.architecture || (b.os ?? 'linux') !== ps.platform.os)) {
      o.reporter.warn(`[Warning] ${o.dockerfile.name}:${ps.stage.from.line}: base image ${ps.stage.image} is ${b.os ?? 'linux'}/${b.architecture}, not ${platformString(ps.platform)}`);
    }
  }
  // RUN steps of another architecture go through qemu: checked (and registered) before any runs.
  for (const ps of stages.values()) if (ps.steps.some((st) => st.action.type === 'run')) await ensureEmulation(ps.platform);
  await writing("the build context's file hashes", () => context.saveStatCache());
  timing('build: steps prepared');
  o.explain?.(p.order.map((i) => stages.get(i)!));

  const workDir = buildScratchDir(o.stateRoot);
  await fs.mkdir(workDir, { recursive: true });
  // What killed commands left (a killed build's containers and scratch dirs...), beside the work.
  const sweeping = sweepLeftovers(o.stateRoot).catch(() => undefined);
  const signal = o.signal ?? new AbortController().signal;
  const { target, steps } = await execute({
    plan: p, stages, store: o.store, runner: o.runner, cache: o.cache ?? new CacheIndex(o.stateRoot), context, reporter: o.reporter,
    workDir, cacheMountDir: path.join(o.stateRoot, 'build', 'cache-mounts'), noCache: !!o.noCache, noCacheStages, ssh,
    sourceDateEpoch: sde, signal, concurrency: o.concurrency ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length), stepLabels: o.stepLabels,
  });
  timing('build: steps executed');
  const config = structuredClone(target.config);
  if (o.labels && Object.keys(o.labels).length) config.config.Labels = { ...(config.config.Labels ?? {}), ...o.labels };
  const image = await writing('the image', () => o.store.writeImage(config, target.layers, { tags: o.tags ?? [] }));
  timing('build: image written');
  await sweeping;
  const seconds = (Date.now() - started) / 1000;
  const cached = steps.filter((s) => s.cached).length;
  const summary = `${steps.length} steps, ${cached} cached, ${steps.length - cached} built in ${seconds.toFixed(1)}s`;
  return { image, steps, seconds, summary, hashedFiles: context.hashedFiles };
}

/**
 * Where on its first line the word an error names is (a flag, or a quoted word such as a
 * source or a stage name), when it is there once: the caret of a message without a column.
 */
function columnOf(text: string, line: number, end: number, detail: string): number | undefined {
  const word = /(--[a-z][a-z-]*)/.exec(detail)?.[1] ?? /"([^"]+)"/.exec(detail)?.[1];
  if (!word) return undefined;
  const source = text.split('\n')[line - 1] ?? '';
  const at = source.indexOf(word);
  if (at < 0 || source.indexOf(word, at + 1) >= 0 || end < line) return undefined;
  return at + 1;
}

/** The last line of the instruction starting at `line` (the line itself when the text does not parse). */
function instructionEnd(text: string, line: number): number {
  try {
    return parse(text).instructions.find((i) => i.startLine === line)?.endLine ?? line;
  } catch {
    return line;
  }
}

export function parseDockerfile(text: string, name: string): Dockerfile {
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof ParseError) throw new BuildError(err.message, { file: name, line: err.line, column: err.column }, { cause: err });
    throw err;
  }
}

/** NAME.dockerignore beside `-f NAME` wins over the context's .dockerignore. */
async function readIgnore(contextDir: string, dockerfilePath?: string): Promise<IgnoreMatcher | undefined> {
  const candidates = [...(dockerfilePath ? [`${dockerfilePath}.dockerignore`] : []), path.join(contextDir, '.dockerignore')];
  for (const file of candidates) {
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      return parseIgnoreFile(text);
    } catch (err) {
      throw new BuildError(`${path.basename(file)}: ${(err as Error).message}`);
    }
  }
  return undefined;
}
