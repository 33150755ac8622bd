// The static pass over a plan: every stage's instructions are applied in order (metadata to
// the config, RUN/COPY/ADD/WORKDIR into steps), variables are expanded where Docker expands
// them, and each step gets its cache-key inputs and key. Nothing runs here; keys only depend
// on the base images, the context's content and the Dockerfile, so they are all known before
// the first container starts (and a warm build needs nothing else).
import { createHash } from 'node:crypto';
import type { Instruction } from '../parser/index.js';
import type { NetworkMode } from '../runtime/index.js';
import { isDamage, type Image, type ImageConfig } from '../store/index.js';
import { cacheKey, type KeyInputs } from './cache-key.js';
import type { BuildContext } from './context.js';
import { keptPath, splitPivot } from './copy-parents.js';
import { parseGitSource, resolveGitCommit } from './git-source.js';
import { selectionInputs, selectionTable, selectSources, setLazyFiles, NotFoundError, type Selected, type SelectionTable } from './copy-select.js';
import { IgnoreMatcher } from './dockerignore.js';
import { BuildError, errors } from './errors.js';
import { toCommand, type Command, type CopyCmd, type RunCmd } from './instructions.js';
import { hostPlatform, type Platform } from './args.js';
import { parsePlatform } from './emulation.js';
import { parseChmod } from './chmod.js';
import { parseRunMounts, type RunMount, type SecretSource } from './mounts.js';
import { resolveFrom, type Plan, type Stage } from './planner.js';
import { StageState, joinWorkdir } from './stage-state.js';
import type { PreparedStage, PreparedStep, StepParent } from './prepared.js';

export type { HistoryTemplate, PreparedStage, PreparedStep, StepAction, StepParent } from './prepared.js';

export interface PrepareOptions {
  plan: Plan;
  context: BuildContext;
  /** A base image by name, for a platform (a pull asks for it). */
  resolveImage: (ref: string, platform: Platform) => Promise<Image>;
  /** Parses one ONBUILD trigger line into an instruction. */
  parseTrigger: (text: string) => Instruction;
  /** Distinguishes this Dockerfile+context in slot ids (miss explanations). */
  slotPrefix: string;
  network: NetworkMode;
  secrets: ReadonlyMap<string, SecretSource>;
  platform: Platform;
  /** Layers built with clamped timestamps differ from others: part of their keys. */
  sourceDateEpoch?: number;
  /** SSH_AUTH_SOCK for resolving git@/ssh:// sources (the --ssh default agent). */
  gitSshAuthSock?: string;
  /** Told each step's parent key before the step is prepared (stages of the target image only). */
  onStepParent?: (p: StepParent) => void;
}

export async function prepare(options: PrepareOptions): Promise<Map<number, PreparedStage>> {
  const out = new Map<number, PreparedStage>();
  const { stages, order } = options.plan;
  // The target (prepared last) and the stages it is FROM: the image's layers are theirs.
  const imaged = new Set<number>();
  for (let s: Stage | undefined = stages[order[order.length - 1]]; s; s = s.base.kind === 'stage' ? stages[s.base.index] : undefined) imaged.add(s.index);
  for (const index of order) {
    const o = imaged.has(index) ? options : { ...options, onStepParent: undefined };
    out.set(index, await prepareStage(o, stages[index], out));
  }
  return out;
}

async function prepareStage(options: PrepareOptions, stage: Stage, done: Map<number, PreparedStage>): Promise<PreparedStage> {
  const { plan } = options;
  const file = plan.file;
  // `FROM --platform=P` builds the stage for P (the cross-compiling `--platform=$BUILDPLATFORM`
  // idiom): its base, its image config and its keys are P's; the others are the build's.
  let platform = options.platform;
  if (stage.platform) {
    try {
      platform = parsePlatform(stage.platform);
    } catch (err) {
      throw new BuildError((err as Error).message, { file, line: stage.from.line });
    }
  }
  const o: PrepareOptions = { ...options, platform };
  let config: ImageConfig;
  let parent: string;
  let baseImage: Image | undefined;
  let baseStage: number | undefined;
  if (stage.base.kind === 'image') {
    try {
      baseImage = await o.resolveImage(stage.base.ref, platform);
    } catch (err) {
      // Damage names the image itself.
      throw new BuildError(isDamage(err) ? err.message : `${stage.base.ref}: ${(err as Error).message}`, { file, line: stage.from.line }, { cause: err });
    }
    config = structuredClone(baseImage.config);
    // The image is for the platform built (a base of another one is warned about by build()).
    config.architecture = o.platform.architecture;
    config.os = o.platform.os;
    parent = `image:${baseImage.id}`;
  } else if (stage.base.kind === 'stage') {
    const prior = done.get(stage.base.index)!;
    config = structuredClone(prior.config);
    parent = prior.finalKey;
    baseStage = stage.base.index;
  } else {
    config = { architecture: o.platform.architecture, os: o.platform.os, config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
    parent = 'scratch';
  }
  config.config ??= {};
  config.config.Env ??= baseImage || baseStage !== undefined ? config.config.Env : ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  const triggers = config.config.OnBuild ?? [];
  config.config.OnBuild = null;
  const state = new StageState(config.config, plan.escapeToken, plan.globalArgs, plan.buildArgs);
  const label = stage.name ?? `stage-${stage.index}`;
  const commands: Command[] = [...triggers.map((t) => toCommand({ ...o.parseTrigger(t), startLine: stage.from.line, endLine: stage.from.line }, file)), ...stage.commands];
  const prepared: PreparedStage = {
    stage, label, baseImage, baseStage, platform, fromDisplay: `FROM ${stage.platform ? `--platform=${stage.platform} ` : ''}${stage.image}${stage.name ? ` AS ${stage.name}` : ''}`,
    steps: [], config, history: [], finalKey: parent,
  };
  for (const cmd of commands) {
    const at = { file, line: cmd.line };
    if (STEP_KINDS.has(cmd.kind)) o.onStepParent?.({ stage: label, position: prepared.steps.length + 2, parent });
    try {
      const step = await prepareCommand(o, cmd, state, prepared, done, parent);
      if (step) {
        prepared.steps.push(step);
        prepared.history.push({ createdBy: step.createdBy, step });
        parent = step.key;
      }
    } catch (err) {
      if (err instanceof BuildError) throw err;
      if (err instanceof NotFoundError) throw new BuildError(errors.copyNotFound(cmd.kind, err.source), at);
      throw new BuildError((err as Error).message, at, { cause: err });
    }
  }
  prepared.finalKey = parent;
  if (!prepared.steps.length && prepared.history.length) {
    const inputs: KeyInputs = { type: 'CONFIG', parent, instruction: prepared.history.map((h) => h.createdBy).join('\n'), settings: epochSetting(o) };
    const more = prepared.history.length - 1;
    prepared.metadata = { key: cacheKey(inputs), inputs, slot: slotId(o.slotPrefix, label, 0), display: `${prepared.history[0].createdBy}${more ? ` (and ${more} more)` : ''}` };
  }
  const total = prepared.steps.length + 1;
  prepared.steps.forEach((s, i) => {
    s.position = i + 2;
    s.slot = slotId(o.slotPrefix, label, i);
    void total;
  });
  return prepared;
}

/** The instructions that make a step (the others change the config only). */
const STEP_KINDS = new Set<Command['kind']>(['RUN', 'COPY', 'ADD', 'WORKDIR']);

/** Settings every step's key carries: SOURCE_DATE_EPOCH, and a platform other than the host's (its RUNs differ). */
function epochSetting(o: PrepareOptions): Record<string, string> {
  const host = hostPlatform();
  const foreign = o.platform.architecture !== host.architecture || o.platform.os !== host.os;
  return {
    ...(o.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: String(o.sourceDateEpoch) }),
    ...(foreign ? { platform: `${o.platform.os}/${o.platform.architecture}` } : {}),
  };
}

function slotId(prefix: string, stage: string, index: number): string {
  return createHash('sha256').update(`${prefix}\0${stage}\0${index}`).digest('hex');
}

async function prepareCommand(o: PrepareOptions, cmd: Command, state: StageState, ps: PreparedStage, done: Map<number, PreparedStage>, parent: string): Promise<PreparedStep | undefined> {
  const base = { stage: ps.stage.index, position: 0, line: cmd.line, slot: '' };
  switch (cmd.kind) {
    case 'RUN':
      return prepareRun(o, cmd, state, parent, base, done);
    case 'COPY':
    case 'ADD':
      return prepareCopy(o, cmd, state, parent, base, done);
    case 'WORKDIR': {
      const createdBy = state.apply(cmd);
      const path = state.config.WorkingDir!;
      // The directories it creates belong to the USER of the moment (BuildKit; podman agrees when a RUN follows).
      const user = state.config.User ?? '';
      const inputs: KeyInputs = { type: 'WORKDIR', parent, instruction: createdBy, settings: { ...epochSetting(o), ...(user ? { user } : {}) } };
      return { ...base, display: createdBy, action: { type: 'workdir', path, user }, inputs, key: cacheKey(inputs), createdBy };
    }
    case 'FROM':
      throw new Error('FROM inside a stage');
    default:
      // MAINTAINER sets the image's author (Docker, BuildKit and podman alike).
      if (cmd.kind === 'MAINTAINER') ps.config.author = cmd.value;
      ps.history.push({ createdBy: state.apply(cmd) });
      return undefined;
  }
}

async function prepareRun(o: PrepareOptions, cmd: RunCmd, state: StageState, parent: string, base: Omit<PreparedStep, 'display' | 'action' | 'inputs' | 'key' | 'createdBy'>, done: Map<number, PreparedStage>): Promise<PreparedStep> {
  const c = state.config;
  let argv: string[];
  const mounts = parseRunMounts(cmd.mounts, (w) => state.expand(w), o.secrets);
  const script = shebangScript(cmd);
  if (cmd.exec) {
    argv = [...cmd.args];
  } else if (script) {
    // BuildKit runs a lone heredoc that starts with "#!" as a file, so its interpreter is used.
    mounts.push(script);
    argv = [...state.shell(), `${script.target}/${script.name}`];
  } else {
    argv = [...state.shell(), runScript(cmd)];
  }
  const requested = cmd.network ?? 'default';
  if (!['host', 'none', 'default'].includes(requested)) throw new Error(`unsupported network mode for RUN: "${cmd.network}"`);
  const network: NetworkMode = requested === 'default' ? o.network : (requested as NetworkMode);
  const createdBy = `RUN ${state.argsPrefix()}${cmd.exec ? JSON.stringify(argv) : argv.join(' ')}`;
  const flags = cmd.raw.flags.length ? `${cmd.raw.flags.join(' ')} ` : '';
  const display = cmd.heredocs.length ? `${cmd.original.split('\n')[0].trim()}${loneHeredoc(cmd) ? ` (${heredocSummary(cmd.heredocs[0].content)})` : ''}` : `RUN ${flags}${cmd.exec ? JSON.stringify(cmd.args) : runScript(cmd)}`;
  const env = state.runEnv();
  const { files, sources } = await bindInputs(o, mounts, done);
  const inputs: KeyInputs = {
    files, sources,
    type: 'RUN', parent, instruction: `RUN ${JSON.stringify(argv)}`, args: state.visibleArgs(), env: c.Env ?? [],
    settings: { user: c.User ?? '', workdir: c.WorkingDir || '/', network, mounts: mounts.map((m) => m.keyText).join(' '), ...epochSetting(o) },
  };
  const volumes = Object.keys(c.Volumes ?? {});
  if (volumes.length) inputs.settings!.volumes = volumes.join(' ');
  return {
    ...base, display, createdBy, inputs, key: cacheKey(inputs),
    action: { type: 'run', argv, env, user: c.User ?? '', cwd: c.WorkingDir || '/', network, mounts, volumes },
  };
}

/**
 * What bind mounts add to a RUN's key: the selected context files, or the key (image ID) of
 * the stage (image) they come from; a cache mount's `from=` adds its stage's (image's) too, as
 * BuildKit's exec op takes the base of such a mount as an input. Resolves `from=` on the mounts
 * as a side effect.
 */
async function bindInputs(o: PrepareOptions, mounts: RunMount[], done: Map<number, PreparedStage>): Promise<{ files?: Record<string, string>; sources?: Record<string, string> }> {
  let files: Record<string, string> | undefined;
  let sources: Record<string, string> | undefined;
  for (const m of mounts) {
    if (m.type !== 'bind' && m.type !== 'cache') continue;
    if (m.type === 'cache' && m.from === undefined) continue;
    if (m.type === 'bind' && m.from === undefined) {
      files = { ...files, ...(await selectionInputs(o.context, await selectSources(o.context, [m.source || '.']))) };
      continue;
    }
    const ref = resolveFrom(m.from!, o.plan.stages);
    if ('stage' in ref) {
      const src = done.get(ref.stage);
      if (!src) throw new Error(errors.unknownStage(m.from!));
      m.fromStage = ref.stage;
      sources = { ...sources, [`stage ${src.label}`]: src.finalKey };
    } else {
      const image = await o.resolveImage(ref.image, o.platform);
      m.fromImage = { id: image.id, diffIds: image.config.rootfs.diff_ids };
      sources = { ...sources, [`image ${ref.image}`]: image.id };
    }
  }
  return { files, sources };
}

/** ETag or Last-Modified+Content-Length from a HEAD request; a server without them is always refetched. */
async function urlValidator(url: string): Promise<string> {
  try {
    const { httpFetch } = await import('../net/index.js'); // (node:tls) only for ADD https://
    const res = await httpFetch(url, { method: 'HEAD', redirect: 'follow' });
    const etag = res.headers.get('etag');
    const modified = res.headers.get('last-modified');
    if (res.ok && (etag || modified)) return etag ? `etag ${etag}` : `modified ${modified} ${res.headers.get('content-length') ?? ''}`;
  } catch {
    // unreachable now: the ADD step will say why when it fetches
  }
  return `unvalidated ${Date.now()}`;
}

/** The absolute destination; a trailing "/" (or "." / "..") marks a directory. */
function destPath(cwd: string, dest: string): string {
  const abs = joinWorkdir(cwd, dest);
  const isDir = dest.endsWith('/') || /(^|\/)\.\.?$/.test(dest);
  return isDir && abs !== '/' ? `${abs}/` : abs;
}

/** `RUN <<EOF` alone: the command line is just the heredoc's marker. */
function loneHeredoc(cmd: RunCmd): boolean {
  return cmd.heredocs.length === 1 && /^\s*<<-?\s*["']?[A-Za-z0-9_]+["']?\s*$/.test(cmd.args.join(' '));
}

/** BuildKit's label for a lone heredoc: its first line, "..." when there are more. */
function heredocSummary(content: string): string {
  const lines = content.trim().split('\n');
  return lines.length > 1 ? `${lines[0]}...` : lines[0];
}

/** A lone heredoc whose body starts with "#!": the file it runs from (BuildKit: /dev/pipes/NAME, never expanded). */
function shebangScript(cmd: RunCmd): Extract<RunMount, { type: 'inline' }> | undefined {
  if (cmd.exec || !loneHeredoc(cmd) || !cmd.heredocs[0].content.startsWith('#!')) return undefined;
  const { name, content } = cmd.heredocs[0];
  const digest = createHash('sha256').update(content).digest('hex');
  return { type: 'inline', target: '/dev/pipes', name, content, keyText: `inline:${name}:sha256:${digest}` };
}

/** The shell script of a shell-form RUN: the command line, and heredoc bodies as the shell expects them. */
function runScript(cmd: RunCmd): string {
  const line = cmd.args.join(' ');
  if (cmd.heredocs.length === 0) return line;
  // `RUN <<EOF` alone runs the body as the script.
  if (loneHeredoc(cmd)) return cmd.heredocs[0].content;
  return `${line}\n${cmd.heredocs.map((h) => `${h.content}${h.name}\n`).join('')}`;
}

async function prepareCopy(o: PrepareOptions, cmd: CopyCmd, state: StageState, parent: string, base: Omit<PreparedStep, 'display' | 'action' | 'inputs' | 'key' | 'createdBy'>, done: Map<number, PreparedStage>): Promise<PreparedStep> {
  const c = state.config;
  const heredocNames = new Set(cmd.heredocs.map((h) => `<<${h.name}`));
  const words = cmd.sources.map((s) => (heredocNames.has(s) || /^<<-/.test(s) ? s : state.expand(s)));
  const dest = state.expand(cmd.dest);
  const chown = cmd.chown === undefined ? undefined : state.expand(cmd.chown);
  const chmodText = cmd.chmod === undefined ? undefined : state.expand(cmd.chmod);
  const chmod = chmodText === undefined ? undefined : parseChmod(chmodText);
  const exclude = cmd.exclude.length ? new IgnoreMatcher(cmd.exclude.map((e) => state.expand(e))) : undefined;
  const heredocs = cmd.heredocs.map((h) => ({ name: h.name, content: h.expand ? state.expand(h.content) : h.content }));
  const gitWords = new Map(cmd.kind === 'ADD' ? words.flatMap((w) => {
    const g = heredocNames.has(w) ? undefined : parseGitSource(w);
    return g ? [[w, g] as const] : [];
  }) : []);
  const urls = cmd.kind === 'ADD' ? words.filter((w) => /^https?:\/\//.test(w) && !gitWords.has(w)) : [];
  if (cmd.kind === 'COPY' && words.some((w) => /^https?:\/\//.test(w))) throw new Error("source can't be a URL for COPY");
  const local = words.filter((w) => !heredocNames.has(w) && !urls.includes(w) && !gitWords.has(w) && !/^<<-?/.test(w));
  if (cmd.checksum !== undefined && local.length > 0) throw new Error("checksum can't be specified for non-HTTP(S) sources");
  const flags = [
    cmd.from !== undefined ? `--from=${state.expand(cmd.from)}` : '', chown ? `--chown=${chown}` : '', chmodText ? `--chmod=${chmodText}` : '',
    cmd.checksum ? `--checksum=${cmd.checksum}` : '', ...cmd.exclude.map((e) => `--exclude=${state.expand(e)}`),
    cmd.link ? '--link' : '', cmd.parents ? '--parents' : '', cmd.keepGitDir ? '--keep-git-dir' : '',
  ].filter(Boolean);
  const display = `${cmd.kind} ${[...flags, ...words, dest].join(' ')}`;
  const inputs: KeyInputs = { type: cmd.kind, parent, instruction: display, settings: { workdir: c.WorkingDir || '/', ...epochSetting(o) } };
  if (heredocs.length) inputs.settings!.heredocs = createHash('sha256').update(JSON.stringify(heredocs)).digest('hex');
  if (cmd.checksum) inputs.settings!.checksum = cmd.checksum;
  if (cmd.exclude.length) inputs.settings!.exclude = cmd.exclude.join(' ');
  let from: { stage: number } | { image: Image } | undefined;
  let selections: Selected[] = [];
  let table: SelectionTable | undefined;
  if (cmd.from !== undefined) {
    const ref = resolveFrom(state.expand(cmd.from), o.plan.stages);
    if ('stage' in ref) {
      const src = done.get(ref.stage);
      if (!src) throw new Error(errors.unknownStage(cmd.from));
      from = { stage: ref.stage };
      inputs.sources = { [`stage ${src.label}`]: src.finalKey };
    } else {
      const image = await o.resolveImage(ref.image, o.platform);
      from = { image };
      inputs.sources = { [`image ${ref.image}`]: image.id };
    }
  } else {
    selections = cmd.parents ? await selectWithParents(o.context, local) : await selectSources(o.context, local);
    table = await selectionTable(o.context, selections, exclude);
  }
  // A git source's content is its commit: the ref is resolved now, and the commit keys the step.
  const git = [];
  for (const source of gitWords.values()) {
    const resolved = await resolveGitCommit(source, { sshAuthSock: o.gitSshAuthSock });
    if (cmd.checksum !== undefined && !resolved.commit.startsWith(cmd.checksum)) throw new Error(`${source.word}: expected checksum ${cmd.checksum}, got commit ${resolved.commit}`);
    git.push({ source, ...resolved, keepGitDir: cmd.keepGitDir });
    inputs.settings![`git ${source.word}`] = `commit ${resolved.commit}${cmd.keepGitDir ? ' keep-git-dir' : ''}`;
  }
  // Without --checksum a URL's content is unknown until fetched: its validators stand in for it.
  if (cmd.checksum === undefined) for (const u of urls) inputs.settings![`url ${u}`] = await urlValidator(u);
  // BuildKit's history names --parents, --chown and --chmod only, and inline documents after the paths.
  const historyFlags = [cmd.parents ? '--parents' : '', chown ? `--chown=${chown}` : '', chmodText ? `--chmod=${chmodText}` : ''].filter(Boolean);
  const paths = words.filter((w) => !heredocNames.has(w) && !/^<<-?/.test(w));
  const createdBy = `${cmd.kind} ${[...historyFlags, ...paths, ...cmd.heredocs.map((h) => `<<${h.name}`), dest].join(' ')}`;
  const cwd = c.WorkingDir || '/';
  const key = cacheKey(inputs, table?.digest);
  const linkKey = cmd.link ? cacheKey({ ...inputs, parent: 'link' }, table?.digest) : undefined;
  if (table) setLazyFiles(inputs, table);
  return {
    ...base, display, createdBy, inputs, key, linkKey,
    action: {
      type: 'copy', add: cmd.kind === 'ADD', selections, parents: cmd.parents, paths: from ? local : [], heredocs, urls, dest: destPath(cwd, dest),
      cwd, chown, chmod, exclude, checksum: cmd.checksum, from: from ?? undefined, git: git.length ? git : undefined,
    },
  };
}

/** COPY --parents: each source selected without its pivot, every match told where it lands. */
async function selectWithParents(ctx: BuildContext, sources: string[]): Promise<Selected[]> {
  const out: Selected[] = [];
  for (const source of sources) {
    const { select, base } = splitPivot(source);
    let found: Selected[];
    try {
      found = await selectSources(ctx, [select || '.'], { doublestar: true });
    } catch (err) {
      throw err instanceof NotFoundError ? new NotFoundError(source) : err;
    }
    out.push(...found.map((sel) => ({ ...sel, source, keep: keptPath(sel.path, base) })));
  }
  return out;
}
