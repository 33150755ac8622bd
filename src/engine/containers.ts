// The Containers service: Docker's container operations over one state root, for the CLI and
// for TypeScript programs. Containers are named by ID, unique ID prefix or name; each call reads
// the container's record and its runtime state afresh (there is no daemon: another process
// may have changed them). The work is in containers-*.ts; the runtime does the running.
import type { Readable } from 'node:stream';
import {
  currentState, isLive, killContainer, networkOf, parseNetworkAttachment, pauseContainer, readRuntimeStatus, runcRootOf, spawnEarlyShim, sweepLeftovers, unpauseContainer, type DetachedStartOptions,
  type Change, type ContainerContext, type ContainerHandle, type ContainerStats, type CopyResult, type PortBinding, type ReadLogsOptions, type TopResult,
} from '../runtime/index.js';
import { ContainerStore, DamagedError, openStore, stateRoot, type ContainerRecord, type ContainerState, type Image, type ImageStore } from '../store/index.js';
import { createContainer, type CreateContainerOptions } from './containers-create.js';
import { failpoint } from '../failpoint.js';
import { timing } from '../timing.js';
import { runForeground, type ForegroundIo } from './containers-foreground.js';
import {
  handleOf, killAndWait, refusePaused, removeDamaged, removeOne, renameOne, requireRunning, startContainer, stopOne, waitOne, type LightContext,
} from './containers-ops.js';
import type { AttachRequest, AttachResult } from './containers-attach.js';
import type { CommitRequest } from './containers-commit.js';
import type { UpdateRequest } from './containers-update.js';
import type { CopyRequest, ExecRequest } from './containers-io.js';
import type { ContainerListEntry, ContainerSize, ListOptions, PruneResult } from './containers-list.js';

export type { AttachRequest, AttachResult } from './containers-attach.js';
export type { CommitRequest } from './containers-commit.js';
export type { UpdateRequest } from './containers-update.js';
export type { CreateContainerOptions } from './containers-create.js';
export type { ForegroundIo } from './containers-foreground.js';
export type { CopyRequest, ExecRequest } from './containers-io.js';
export type { ContainerListEntry, ContainerSize, ListOptions, PruneResult } from './containers-list.js';

// What `run` does not need is loaded on first use (the run bundle leaves it out: scripts/bundle-cli.mjs).
const io = () => import('./containers-io.js');
const list = () => import('./containers-list.js');

/**
 * The `-p` values a shim spawned early binds before the container exists: none with -P (the
 * image says which ports) nor on a network that discards ports (host, none) or refuses them
 * (container:NAME), where a port bound for a moment could hold back the container's own.
 */
function earlyPublish(o: CreateContainerOptions): string[] {
  if (!o.publish?.length || o.publishAll) return [];
  let target: string | undefined;
  try {
    target = o.network === undefined ? undefined : parseNetworkAttachment(o.network).target;
  } catch {
    return []; // refused by the create, with its own message
  }
  return target === 'host' || target === 'none' || target?.startsWith('container:') ? [] : o.publish;
}

export class Containers {
  readonly root: string;
  readonly store: ContainerStore;
  readonly runcRoot: string;
  #images?: Promise<ImageStore>;

  /** The containers of the state root ROOT (default: $STRATA_ROOT, else the machine's). */
  constructor(root: string = stateRoot(), images?: ImageStore) {
    this.root = root;
    this.store = new ContainerStore(root);
    this.runcRoot = runcRootOf(root);
    if (images) this.#images = Promise.resolve(images);
  }

  /** The runtime's view, with the image store opened on first need (commands such as `kill` never open it). */
  async context(): Promise<ContainerContext> {
    this.#images ??= openStore(this.root);
    return { root: this.root, containers: this.store, images: await this.#images, runcRoot: this.runcRoot };
  }

  /** What the runtime's signals, waits and freezer act on. */
  #light(): LightContext {
    return { root: this.root, containers: this.store, runcRoot: this.runcRoot };
  }

  get(ref: string): Promise<ContainerRecord> {
    return this.store.get(ref);
  }

  handle(record: ContainerRecord): ContainerHandle {
    return handleOf(this.#light(), record);
  }

  /** Docker's State, reconciled with the runtime. */
  state(record: ContainerRecord): ContainerState {
    return currentState(this.#light(), record);
  }

  /** The init pid of a running container, or Docker's error (paused, not running) for WHAT it was needed for. */
  requireRunning(record: ContainerRecord, what: string): number {
    return requireRunning(this.#light(), record, what);
  }

  async create(options: CreateContainerOptions): Promise<ContainerRecord> {
    return createContainer(await this.context(), options);
  }

  /**
   * Removes, in the background, what earlier `run --rm`s and killed commands left. Not the --rm
   * containers of killed runs: finding them reads every container's record, which a `run` would
   * pay for while its own container starts; `ps`, `rm` and the other commands' sweep take them.
   */
  sweep(): Promise<unknown> {
    return sweepLeftovers(this.root, { orphanedAutoRemove: false });
  }

  /**
   * `run -d`: creates the container and starts it under its shim, spawned before the create so
   * that the shim's Node process starts while the image is resolved and the record written
   * (runtime/shim/client.ts). CREATED runs in between (the CLI's --cidfile), ONGO once the shim
   * is told to go. Whatever fails ends that shim (it exits at its stdin's end, its temp log
   * removed); a --rm container that could not start is removed.
   */
  async runDetached(options: CreateContainerOptions, hooks: { created?: (record: ContainerRecord) => Promise<void> | void; onGo?: () => void } = {}): Promise<ContainerRecord> {
    // Without -i or -t, the first start's runc is launched by the command (shim/runc-launcher.ts).
    const early = spawnEarlyShim(this.root, earlyPublish(options), { launch: !options.tty && !options.openStdin });
    early.catch(() => undefined);
    const cancel = () => void early.then((shim) => shim.cancel(), () => undefined);
    let record: ContainerRecord;
    try {
      record = await this.create(options);
      timing('container created');
      failpoint('run.created');
      await hooks.created?.(record);
    } catch (err) {
      cancel();
      throw err;
    }
    try {
      await this.start(record, { shim: await early.catch(() => undefined), onGo: hooks.onGo });
    } catch (err) {
      cancel();
      if (record.HostConfig.AutoRemove) await this.remove(record, { force: true, volumes: true }).catch(() => undefined);
      throw err;
    }
    return record;
  }

  /**
   * Starts under a detached shim (a running container is left as it is). With `attach`, the
   * shim waits for a client before it starts the container, and `attach` is called then.
   */
  async start(ref: string | ContainerRecord, options: DetachedStartOptions = {}): Promise<void> {
    await startContainer(await this.context(), await this.#record(ref), options);
  }

  /** `start`'s refusal of a paused container, for a caller that attaches before it starts. */
  refuseStartIfPaused(record: ContainerRecord): void {
    refusePaused(this.#light(), record);
  }

  /** Attaches streams to the container's shim; resolves when it exits or the detach keys are read. */
  async attach(ref: string | ContainerRecord, request: AttachRequest): Promise<AttachResult> {
    return (await import('./containers-attach.js')).attachStreams(this.#light(), await this.#record(ref), request);
  }

  /** Whether it publishes ports on its own network namespace (then only its shim can forward them). */
  publishesPorts(record: ContainerRecord): boolean {
    return networkOf(record) === 'private' && (((record.Strata.publish as string[] | undefined) ?? []).length > 0 || Boolean(record.Strata.publishAll));
  }

  /** Whether it runs now (a paused one counts). */
  isRunning(record: ContainerRecord): boolean {
    const h = this.handle(record);
    return isLive(readRuntimeStatus(h.dir, h.runcRoot, h.id));
  }

  /** Runs attached to this process (`run` without -d): resolves with the exit code. */
  async runForeground(record: ContainerRecord, io: ForegroundIo): Promise<number> {
    return runForeground(await this.context(), record, io);
  }

  async stop(ref: string, options: { timeout?: number; signal?: string } = {}): Promise<void> {
    await stopOne(this.#light(), await this.get(ref), options);
  }

  /** Stops and starts it again; a --rm container is kept for the start, as Docker's. */
  async restart(ref: string, options: { timeout?: number } = {}): Promise<void> {
    const record = await this.get(ref);
    await stopOne(this.#light(), record, { ...options, restart: true });
    await this.start(record.Id);
  }

  async kill(ref: string, signal = 'KILL'): Promise<void> {
    const record = await this.get(ref);
    await killContainer(this.handle(record), signal, { stopSignal: record.Config.StopSignal ?? '' });
  }

  /** Passes a signal on to the container's process without marking it stopped (attach's --sig-proxy). */
  forwardSignal(record: ContainerRecord, signal: string): Promise<void> {
    return killContainer(this.handle(record), signal, { markStopped: false });
  }

  /** SIGKILL, then wait for it to be gone (at most 10 s). */
  async killAndWait(record: ContainerRecord): Promise<void> {
    await killAndWait(this.#light(), record);
  }

  async pause(ref: string): Promise<void> {
    pauseContainer(this.handle(await this.get(ref)));
  }

  async unpause(ref: string): Promise<void> {
    unpauseContainer(this.handle(await this.get(ref)));
  }

  /** `rm`: refuses a running container unless forced; `volumes` removes its anonymous volumes. */
  async remove(ref: string | ContainerRecord, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    let record: ContainerRecord;
    try {
      record = await this.#record(ref);
    } catch (err) {
      // One whose record is damaged is found by its ID or name all the same, and can go.
      const id = err instanceof DamagedError && typeof ref === 'string' ? await this.store.idOf(ref) : undefined;
      if (!id) throw err;
      return removeDamaged(this.#light(), id, Boolean(options.force));
    }
    await removeOne(await this.context(), record, options);
  }

  /** Blocks until it stops; its exit code. */
  async wait(ref: string): Promise<number> {
    return waitOne(this.#light(), await this.get(ref));
  }

  async rename(ref: string, newName: string): Promise<void> {
    await renameOne(this.#light(), await this.get(ref), newName);
  }

  /** Parses `update`'s flags alone (a malformed value is refused before any container is touched). */
  async checkUpdate(request: UpdateRequest): Promise<void> {
    (await import('./containers-update.js')).parseUpdateRequest(request);
  }

  /** `update`: resource limits and the restart policy (a running container's cgroup at once). */
  async update(ref: string, request: UpdateRequest): Promise<void> {
    await (await import('./containers-update.js')).updateOne(await this.context(), await this.get(ref), request);
  }

  /** A new image from the container's changes (a running one is paused meanwhile unless `pause: false`). */
  async commit(ref: string, request: CommitRequest = {}): Promise<Image> {
    return (await import('./containers-commit.js')).commitOne(await this.context(), await this.get(ref), request);
  }

  /** Newest first, running ones only unless `all` or `last`, with Docker's filters. */
  async list(options: ListOptions = {}): Promise<ContainerListEntry[]> {
    return (await list()).listContainers(await this.context(), options);
  }

  async sizes(records: ContainerRecord[]): Promise<Map<string, ContainerSize>> {
    return (await list()).containerSizes(await this.context(), records);
  }

  /** Removes every stopped container. */
  async prune(options: { filters?: string[] } = {}): Promise<PruneResult> {
    return (await list()).pruneContainers(await this.context(), options.filters ?? []);
  }

  /** Docker's `container inspect` JSON. */
  async inspect(ref: string): Promise<Record<string, unknown>> {
    return (await import('./containers-inspect.js')).inspectContainer(await this.context(), await this.get(ref));
  }

  /** Runs a process in the running container with our stdio; its exit code. */
  async exec(ref: string, request: ExecRequest): Promise<number> {
    return (await io()).execIn(this.#light(), await this.get(ref), request);
  }

  async logs(ref: string, options: Omit<ReadLogsOptions, 'follow' | 'details'> & { follow?: boolean; details?: boolean }, sink: (stream: 'stdout' | 'stderr', text: string) => void): Promise<void> {
    await (await io()).logsOf(this.#light(), await this.get(ref), options, sink);
  }

  async top(ref: string, psArgs: string[] = []): Promise<TopResult> {
    return (await io()).topOf(this.#light(), await this.get(ref), psArgs);
  }

  /** One sample (about half a second) of a running container's usage; undefined when it is not running. */
  async stats(ref: string | ContainerRecord): Promise<ContainerStats | undefined> {
    return (await io()).statsOf(this.#light(), await this.#record(ref));
  }

  async ports(ref: string): Promise<PortBinding[]> {
    return (await io()).portsOf(this.#light(), await this.get(ref));
  }

  async diff(ref: string): Promise<Change[]> {
    return (await io()).diffOf(await this.context(), await this.get(ref));
  }

  async copyFrom(ref: string, src: string, dest: string, request: CopyRequest = {}): Promise<CopyResult> {
    return (await io()).copyOut(await this.context(), await this.get(ref), src, dest, request);
  }

  async copyTo(ref: string, src: string | Readable, dest: string, request: CopyRequest = {}): Promise<CopyResult> {
    return (await io()).copyIn(await this.context(), await this.get(ref), src, dest, request);
  }

  async export(ref: string, to: { stream: NodeJS.WritableStream } | { file: string }): Promise<void> {
    await (await io()).exportFiles(await this.context(), await this.get(ref), to);
  }

  async #record(ref: string | ContainerRecord): Promise<ContainerRecord> {
    return typeof ref === 'string' ? this.get(ref) : ref;
  }
}
