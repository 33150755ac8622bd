// The executor: stages run as their dependencies finish (independent ones in parallel,
// bounded by the cores); each step is looked up in the cache by its key and only executed on
// a miss: RUN in a throwaway container, COPY/ADD/WORKDIR into a fresh upper dir. A built step's
// upper dir becomes a layer (hashed in the pool while it is written) and a cache entry.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { diskFull, isNoSpace, noSpaceError, StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { timing } from '../timing.js';
import { type ContainerRunner, parseGroup, parsePasswd, resolveUserSpec } from '../runtime/index.js';
import { glob, scratchName, hasWildcards, type BuildCache, type CacheEntry, type HistoryEntry, type ImageConfig, type ImageStore, type KeyInputs, type LayerInfo, type MissExplanation } from '../store/index.js';
import { canonicalJson } from './cache-key.js';
import type { BuildContext } from './context.js';
import { BuildError } from './errors.js';
import { executeCopy } from './exec-copy.js';
import { executeRun } from './exec-run.js';
import type { Plan } from './planner.js';
import type { PreparedStage, PreparedStep, StepAction } from './prepare.js';
import { TailBuffer, type Reporter, type StepView } from './progress.js';
import { datedHistory, lookupKeys } from './stage-history.js';
import { contextSource, layersSource, type TreeNode, type TreeSource } from './tree-source.js';
import { keptPath, normalize, splitPivot } from './copy-parents.js';
import { checkoutGit } from './git-source.js';
import { forcedSteps } from './no-cache-filter.js';
import type { SshAgents } from './ssh-mount.js';

const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar';

export interface ExecuteOptions {
  /** Several builds shown as one (--platform a,b): a label prefix ("linux/arm64") and one step counter. */
  stepLabels?: { prefix?: string; nextId?: () => number };
  plan: Plan;
  stages: Map<number, PreparedStage>;
  store: ImageStore & { hasLayer(diffId: string): Promise<boolean> };
  runner: ContainerRunner;
  cache: BuildCache;
  context: BuildContext;
  reporter: Reporter;
  /** Scratch space on the state root's filesystem (upper/work dirs). */
  workDir: string;
  cacheMountDir: string;
  noCache: boolean;
  noCacheStages: Set<number>;
  /** `--ssh` agents for RUN --mount=type=ssh. */
  ssh?: SshAgents;
  sourceDateEpoch?: number;
  signal: AbortSignal;
  concurrency?: number;
}

export interface StepRecord {
  stage: string;
  instruction: string;
  cached: boolean;
  cacheKey: string;
  layer: string | null;
  seconds: number;
  missReason: string | null;
}

export interface StageResult {
  layers: LayerInfo[];
  config: ImageConfig;
}

export interface ExecuteResult {
  target: StageResult;
  steps: StepRecord[];
}

/** A counting semaphore: at most `n` steps execute at once. */
class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export async function execute(o: ExecuteOptions): Promise<ExecuteResult> {
  const results = new Map<number, Promise<StageResult>>();
  const records: StepRecord[] = [];
  const slots = new Slots(o.concurrency ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  o.signal.addEventListener('abort', onAbort);
  let nextId = 1;
  const forced = forcedSteps(o.plan, o.stages, o.noCacheStages);
  // Every key is known before the first step runs: one lookup for all of them.
  const found = o.noCache ? new Map<string, CacheEntry>() : await o.cache.lookup(o.plan.order.flatMap((i) => lookupKeys(o.stages.get(i)!)));
  const ctx: RunContext = { o, results, records, slots, signal: inner.signal, nextId: o.stepLabels?.nextId ?? (() => nextId++), found, hits: [], removals: [], forced };
  try {
    for (const index of o.plan.order) {
      const p = runStage(ctx, o.stages.get(index)!);
      p.catch(() => inner.abort()); // one failure stops the others
      results.set(index, p);
    }
    const all = await Promise.allSettled(o.plan.order.map((i) => results.get(i)!));
    const failed = all.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof Cancelled));
    if (failed) throw failed.reason;
    if (o.signal.aborted) throw new BuildError('build cancelled', undefined, { exitCode: 130 });
    const target = await results.get(o.plan.target)!;
    await o.cache.used(ctx.hits);
    return { target, steps: records };
  } finally {
    o.signal.removeEventListener('abort', onAbort);
    await Promise.all(ctx.removals);
  }
}

class Cancelled extends Error {}

interface RunContext {
  o: ExecuteOptions;
  results: Map<number, Promise<StageResult>>;
  records: StepRecord[];
  slots: Slots;
  signal: AbortSignal;
  nextId: () => number;
  /** Entries of the build's keys: what the lookup found, and what this build recorded since. */
  found: Map<string, CacheEntry>;
  /** Steps reused by this build: their hit counters are updated once, at the end. */
  hits: { key: string; slot: string }[];
  /** Scratch dirs being removed. */
  removals: Promise<unknown>[];
  /** Steps --no-cache-filter rebuilds (the filtered stages and what reads them), with the reason. */
  forced: Map<PreparedStep, string>;
}

async function runStage(ctx: RunContext, ps: PreparedStage): Promise<StageResult> {
  const { o } = ctx;
  for (const dep of ps.stage.deps) await ctx.results.get(dep);
  if (ctx.signal.aborted) throw new Cancelled();
  let layers: LayerInfo[];
  let history: HistoryEntry[];
  let lastCreated: string;
  if (ps.baseImage) {
    const img = ps.baseImage;
    layers = img.manifest.layers.map((l, i) => ({ diffId: img.config.rootfs.diff_ids[i], digest: l.digest, size: l.size, mediaType: l.mediaType }));
    history = [...(img.config.history ?? [])];
    lastCreated = img.config.created ?? new Date(0).toISOString();
  } else if (ps.baseStage !== undefined) {
    const base = await ctx.results.get(ps.baseStage)!;
    layers = [...base.layers];
    history = [...base.config.history];
    lastCreated = base.config.created ?? new Date(0).toISOString();
  } else {
    layers = [];
    history = [];
    lastCreated = new Date(0).toISOString();
  }
  const total = ps.steps.length + 1;
  const prefix = o.stepLabels?.prefix ? `${o.stepLabels.prefix} ` : '';
  const label = (pos: number) => (o.plan.stages.length > 1 || ps.stage.name ? `[${prefix}${ps.label} ${pos}/${total}]` : `[${prefix}${pos}/${total}]`);
  const fromView: StepView = { id: ctx.nextId(), label: label(1), display: ps.fromDisplay, stage: ps.label };
  o.reporter.stepStart(fromView);
  o.reporter.stepDone(fromView, { cached: true, seconds: 0 });

  const stepResults = new Map<PreparedStep, { created: string; layer?: LayerInfo }>();
  for (const [i, step] of ps.steps.entries()) {
    if (ctx.signal.aborted) throw new Cancelled();
    const view: StepView = { id: ctx.nextId(), label: label(step.position), display: step.display, stage: ps.label };
    const r = await runStep(ctx, ps, step, view, layers, i === 0 ? baseLabel(ctx, ps) : undefined);
    stepResults.set(step, r);
    if (r.layer) layers.push(r.layer);
  }

  const sde = o.sourceDateEpoch === undefined ? undefined : new Date(o.sourceDateEpoch * 1000).toISOString();
  const metaEntry = ps.metadata && !sde && !o.noCache && !o.noCacheStages.has(ps.stage.index) ? ctx.found.get(ps.metadata.key) : undefined;
  if (metaEntry) ctx.hits.push({ key: metaEntry.key, slot: metaEntry.slot });
  lastCreated = await datedHistory({ ps, stepResults, history, lastCreated, sde, metaEntry, cache: o.cache });
  const config: ImageConfig = {
    ...ps.config,
    created: sde ?? lastCreated,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history,
  };
  return { layers, config };
}

/** What a stage's first step is built on, for its miss explanation: "base image busybox", "stage build". */
function baseLabel(ctx: RunContext, ps: PreparedStage): string | undefined {
  if (ps.stage.base.kind === 'image') return `base image ${ps.stage.base.ref}`;
  if (ps.baseStage !== undefined) return `stage ${ctx.o.stages.get(ps.baseStage)!.label}`;
  return undefined;
}

async function runStep(ctx: RunContext, ps: PreparedStage, step: PreparedStep, view: StepView, layers: LayerInfo[], base: string | undefined): Promise<{ created: string; layer?: LayerInfo }> {
  const { o } = ctx;
  const record: StepRecord = { stage: ps.label, instruction: step.display, cached: false, cacheKey: step.key, layer: null, seconds: 0, missReason: null };
  const skipCache = o.noCache || ctx.forced.has(step);
  let entry = skipCache ? undefined : ctx.found.get(step.key);
  // COPY --link: the same layer built on any parent is reused, and recorded for this parent too.
  const linked = skipCache || entry || !step.linkKey ? undefined : ctx.found.get(step.linkKey);
  if (linked?.layer && (await o.store.hasLayer(linked.layer))) {
    entry = await o.cache.record({ ...linked, key: step.key, parent: step.inputs.parent, slot: step.slot, stage: ps.label, step: step.display }, step.inputs);
    ctx.found.set(step.key, entry);
  }
  if (entry && (!entry.layer || (await o.store.hasLayer(entry.layer)))) {
    o.reporter.stepStart(view);
    o.reporter.stepDone(view, { cached: true, seconds: 0 });
    Object.assign(record, { cached: true, layer: entry.layer ?? null });
    ctx.records.push(record);
    ctx.hits.push({ key: step.key, slot: step.slot });
    return { created: entry.created, layer: entry.layer ? { diffId: entry.layer, digest: entry.layerDigest ?? entry.layer, size: entry.size, mediaType: entry.layerMediaType ?? LAYER_MEDIA_TYPE } : undefined };
  }
  const explained: MissExplanation | undefined = skipCache || entry ? undefined : await o.cache.explain({ key: step.key, inputs: step.inputs, slot: step.slot, step: step.display, base });
  const missReason = skipCache ? (o.noCache ? 'cache disabled (--no-cache)' : ctx.forced.get(step)!)
    : entry ? 'cached layer was removed' : explained!.reason;
  record.missReason = missReason;
  o.reporter.stepStart(view, missReason);
  const started = Date.now();
  const release = await ctx.slots.take();
  // Named after this process: a later command removes what a killed one left (store/leftovers.ts).
  const scratch = scratchName(o.workDir, randomBytes(6).toString('hex'));
  const tail = new TailBuffer(10);
  // What is being written, for a full disk's message (in the user's terms, not our paths): the
  // step's files are its layer (its upper dir becomes the layer's snapshot).
  let writingWhat = 'layer';
  try {
    if (ctx.signal.aborted) throw new Cancelled();
    await fs.mkdir(path.join(scratch, 'upper'), { recursive: true, mode: 0o755 });
    await fs.mkdir(path.join(scratch, 'work'), { recursive: true });
    const lowerDirs = await Promise.all(layers.map((l) => o.store.layerPath(l.diffId)));
    const reuse = await reusableFiles(o, step, explained?.previous).catch(() => undefined);
    timing(`build: ${view.label} started`);
    const dirs = { lowerDirs, upperDir: path.join(scratch, 'upper'), workDir: path.join(scratch, 'work'), reuse };
    const made = await perform(ctx, step, step.action, dirs, (chunk) => {
      tail.push(chunk);
      o.reporter.stepOutput(view, chunk);
    });
    timing(`build: ${view.label} executed`);
    void o.cache.recordInputs?.(step.key, step.inputs); // overlaps the packing; record() waits for it
    // The upper dir is ours and done with: the store renames it into place as the snapshot.
    const layer = made ? await o.store.createLayerFromDir(path.join(scratch, 'upper'), { sourceDateEpoch: o.sourceDateEpoch, takeOwnership: true }) : undefined;
    timing(`build: ${view.label} layer stored`);
    const created = new Date().toISOString();
    failpoint('cache.before-record');
    writingWhat = 'build cache entry';
    const recorded = await o.cache.record({ key: step.key, parent: step.inputs.parent, slot: step.slot, stage: ps.label, step: step.display, layer: layer?.diffId, size: layer?.size ?? 0, created }, step.inputs);
    ctx.found.set(step.key, recorded);
    if (step.linkKey && layer) await o.cache.record({ key: step.linkKey, parent: 'link', slot: step.slot, stage: ps.label, step: step.display, layer: layer.diffId, size: layer.size, created }, { ...step.inputs, parent: 'link' });
    record.seconds = (Date.now() - started) / 1000;
    record.layer = layer?.diffId ?? null;
    ctx.records.push(record);
    o.reporter.stepDone(view, { cached: false, seconds: record.seconds, missReason });
    return { created, layer };
  } catch (err) {
    if (err instanceof Cancelled || ctx.signal.aborted) {
      o.reporter.stepFailed(view, 'cancelled', []);
      throw err instanceof Cancelled ? err : new Cancelled();
    }
    // A failure of ours (runc's own start, say) on a disk without room is that.
    const what = `the ${writingWhat} of step ${view.label.slice(1, -1)} (${step.display})`;
    const full = noSpaceError(what, err, isNoSpace(err) || (!(err instanceof StrataError && err.exitCode !== 125) && (await diskFull(o.workDir))));
    const failure = err instanceof BuildError ? err : new BuildError((full ?? (err as Error)).message, { file: o.plan.file, line: step.line }, { cause: err, exitCode: full?.exitCode });
    o.reporter.stepFailed(view, failure.detail, tail.tail());
    throw failure;
  } finally {
    release();
    // Off the critical path: the next step need not wait for a big upper dir to be deleted;
    // execute() waits for every removal before it returns.
    ctx.removals.push(fs.rm(scratch, { recursive: true, force: true }).catch(() => undefined));
  }
}

/**
 * Context files a COPY can take from the layer of the entry its miss was compared with,
 * instead of copying them again: same instruction, same parent, same settings, and the file
 * itself unchanged.
 */
async function reusableFiles(o: ExecuteOptions, step: PreparedStep, prev: { entry: CacheEntry; inputs: KeyInputs } | undefined): Promise<{ root: string; files: Set<string> } | undefined> {
  const now = step.inputs;
  const before = prev?.inputs;
  const layer = prev?.entry.layer;
  if (!layer || !before?.files || !now.files || step.action.type !== 'copy' || step.action.add) return undefined;
  if (before.parent !== now.parent || before.instruction !== now.instruction || canonicalJson(before.settings ?? {}) !== canonicalJson(now.settings ?? {})) return undefined;
  if (!(await o.store.hasLayer(layer))) return undefined;
  const files = new Set<string>();
  for (const [p, v] of Object.entries(now.files)) if (before.files[p] === v) files.add(p);
  return { root: await o.store.layerPath(layer), files };
}

interface Dirs {
  lowerDirs: string[];
  upperDir: string;
  workDir: string;
  /** A COPY's unchanged files, linked from the previous build's layer snapshot. */
  reuse?: { root: string; files: Set<string> };
}

/** Executes one step into `dirs.upperDir`; false when it made no change worth a layer. */
async function perform(ctx: RunContext, step: PreparedStep, action: StepAction, dirs: Dirs, onOutput: (chunk: string) => void): Promise<boolean> {
  const { o } = ctx;
  const at = { file: o.plan.file, line: step.line };
  switch (action.type) {
    case 'run': {
      const code = await executeRun({
        runner: o.runner, action, lowerDirs: dirs.lowerDirs, upperDir: dirs.upperDir, workDir: dirs.workDir, context: o.context, cacheMountDir: o.cacheMountDir, onOutput, signal: ctx.signal, ssh: o.ssh,
        stageLayers: async (stage) => Promise.all((await ctx.results.get(stage)!).layers.map((l) => o.store.layerPath(l.diffId))),
        imageLayers: (diffIds) => Promise.all(diffIds.map((d) => o.store.layerPath(d))),
      });
      if (ctx.signal.aborted) throw new Cancelled();
      if (code !== 0) {
        // The process met a full disk (most likely) if the step's upper dir has no room left.
        if (await diskFull(dirs.upperDir)) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        // The command itself is in the step's progress line and the source snippet: not repeated here.
        throw new BuildError(`RUN did not complete successfully: exit code: ${code}`, at);
      }
      return true;
    }
    case 'workdir': {
      const existing = await layersSource(dirs.lowerDirs).lookup(action.path, true);
      if (existing?.type === 'dir') return false;
      const owner = action.user ? await resolveOwner(dirs.lowerDirs, action.user) : undefined;
      await executeCopy({ lowerDirs: dirs.lowerDirs, upperDir: dirs.upperDir, source: contextSource(o.context), items: [], heredocs: [], urls: [], dest: action.path === '/' ? '/' : `${action.path}/`, owner, unpack: false });
      return true;
    }
    case 'copy': {
      let source: TreeSource;
      let items;
      if (action.from) {
        const layers = 'stage' in action.from ? (await ctx.results.get(action.from.stage)!).layers.map((l) => l.diffId) : action.from.image.config.rootfs.diff_ids;
        source = layersSource(await Promise.all(layers.map((d) => o.store.layerPath(d))));
        items = [];
        let emptyGlob: string | undefined;
        for (const written of action.paths) {
          const { select: p, base } = action.parents ? splitPivot(written) : { select: written, base: '' };
          const wild = hasWildcards(p);
          const nodes = wild ? await globNodes(source, p, !!action.parents) : [await source.lookup(p, true)].filter((n): n is TreeNode => !!n);
          if (nodes.length === 0 && !wild) throw new BuildError(`${step.display.split(' ')[0]} failed: file not found in stage or image: "${written}"`, at);
          if (nodes.length === 0) emptyGlob ??= written;
          // A matched symlink is followed, and copied under its own name.
          for (const node of nodes) {
            const matched = wild ? node.rel : normalize(p);
            const name = wild ? path.posix.basename(node.rel) : path.posix.basename(path.posix.normalize(`/${p}`));
            const target = node.type === 'symlink' ? await source.lookup(node.rel, true) : node;
            const parents = action.parents ? { path: matched, keep: keptPath(matched, base) } : undefined;
            if (target) items.push({ node: target, name, exclude: action.exclude, parents });
          }
        }
        if (items.length === 0 && emptyGlob !== undefined) throw new BuildError(`${step.display.split(' ')[0]} failed: file not found in stage or image: "${emptyGlob}"`, at);
      } else {
        source = contextSource(o.context);
        items = [];
        for (const sel of action.selections) {
          const parents = sel.keep === undefined ? undefined : { path: sel.path, keep: sel.keep };
          items.push({ node: (await source.lookup(sel.entry.path, true))!, name: sel.name, exclude: action.exclude, parents });
        }
      }
      const owner = action.chown ? await resolveOwner(dirs.lowerDirs, action.chown) : undefined;
      const onlyGit = action.git && items.length === 0 && action.heredocs.length === 0 && action.urls.length === 0;
      if (!onlyGit) await executeCopy({ ...dirs, source, items, heredocs: action.heredocs, urls: action.urls, dest: action.dest, owner, chmod: action.chmod, unpack: action.add, checksum: action.checksum, reuse: action.from ? undefined : dirs.reuse });
      for (const [i, g] of (action.git ?? []).entries()) {
        // A repository is a directory: its content goes into the destination directory.
        const root = await checkoutGit(g.source, g, path.join(path.dirname(dirs.upperDir), `git-${i}`), g.keepGitDir, { signal: ctx.signal, sshAuthSock: o.ssh?.socket('default') });
        const tree = layersSource([root]);
        const dest = action.dest.endsWith('/') ? action.dest : `${action.dest}/`;
        await executeCopy({ lowerDirs: dirs.lowerDirs, upperDir: dirs.upperDir, source: tree, items: [{ node: (await tree.lookup('', true))!, exclude: action.exclude }], heredocs: [], urls: [], dest, owner, chmod: action.chmod, unpack: false });
      }
      return true;
    }
  }
}

/** The nodes a --from path with wildcards matches in the stage's (image's) tree, links not followed. */
async function globNodes(source: TreeSource, pattern: string, doublestar: boolean): Promise<TreeNode[]> {
  const nodes = await Promise.all((await glob(source, pattern, { doublestar })).map((rel) => source.lookup(rel, false)));
  return nodes.filter((n): n is TreeNode => !!n);
}

/** `--chown=user:group` with names looked up in the image's /etc/passwd and /etc/group. */
async function resolveOwner(lowerDirs: string[], spec: string): Promise<{ uid: number; gid: number }> {
  const view = layersSource(lowerDirs);
  const read = async (file: string) => {
    const n = await view.lookup(file, true);
    return n?.type === 'file' ? fs.readFile(n.hostPath, 'utf8') : '';
  };
  const [passwd, group] = await Promise.all([read('etc/passwd'), read('etc/group')]);
  const [user, grp] = spec.split(':', 2);
  const resolved = resolveUserSpec(grp === undefined ? user : `${user}:${grp}`, parsePasswd(passwd), parseGroup(group));
  // Docker: a user without a group gets the same numeric value as its group.
  return { uid: resolved.uid, gid: grp === undefined ? resolved.uid : resolved.gid };
}
