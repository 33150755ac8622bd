// Sweeping what killed strata processes left in a state root: build containers whose build is
// gone (still running, or only runc's state of them), the helper processes they started (a
// build's ssh-agent), then the store's temp entries, build scratch dirs (bundles included), temp
// mounts and the temps they noted outside the root (store/leftovers.ts), the graveyards of
// container removals, the volumes of killed volume removals (store/volume-asides.ts), and the
// temp files of killed writers of the machine's subnet claims (net/pool.ts), and the --rm
// containers whose supervisor (a foreground `run --rm`, a shim) was killed: exited, nobody left
// to remove them, removed as Docker's daemon (podman's conmon) would. Only this state
// root's (the claims' temps: any root's), only those of owners that have surely exited (pid and
// start time, store/owner.ts): another live process's work is never touched.
// `strata system check --repair` calls sweepLeftovers; so do the commands that write.
import fs from 'node:fs/promises';
import path from 'node:path';
import { runFile as run } from '../run-file.js';
import { randomBytes } from '../random.js';
import { sweepNetworks } from './net/networks.js';
import { sweepClaimTemps } from './net/pool.js';
import { mountRequestsOf, volumesOf } from './shim/mounts.js';
import { readRuntimeStatus, readShimStatus, shimAlive } from './shim/state.js';
import { removalGuard } from './start-claim.js';
import { removeAnonymousVolumes } from './volume-users.js';
import {
  ContainerStore, ownerGone, ownerStamp, parseOwner, processStartTime, sweepStoreLeftovers, sweepVolumeAsides, tempName, tempOwner, type SweepOptions, type VolumeSweep,
} from '../store/index.js';


const BUILD_CONTAINER_PREFIX = 'strata-build-';

/** A runc container ID for a build step, naming this process: `strata-build-PID.START-RANDOM`. */
export function buildContainerId(): string {
  return `${BUILD_CONTAINER_PREFIX}${ownerStamp()}-${randomBytes(8).toString('hex')}`;
}

/**
 * Removes the --rm containers (and their anonymous volumes) whose supervisor was killed before it
 * could: it had started them (a runtime status is there, so one never started stays Created, as
 * Docker's), it has surely exited, and runc no longer runs them (a container still running is
 * left for a later sweep). A start since the look makes the removal throw (start-claim.ts): kept.
 */
export async function removeOrphanedAutoRemove(root: string, options: SweepOptions = {}): Promise<string[]> {
  const containers = new ContainerStore(root);
  const runcRoot = path.join(root, 'runc');
  const removed: string[] = [];
  for (const record of await containers.list().catch(() => [])) {
    if (!record.HostConfig?.AutoRemove) continue;
    const dir = containers.paths(record.Id).dir;
    const status = readShimStatus(dir);
    if (!status || shimAlive(status)) continue;
    const now = readRuntimeStatus(dir, runcRoot, record.Id);
    if (!now || now.state !== 'exited') continue;
    if (options.dryRun) {
      removed.push(record.Id);
      continue;
    }
    try {
      // As removeContainer (foreground.ts, which this module cannot import: runc.ts imports it)
      // with --rm's options; its endpoints, its owner dead, go with sweepNetworks below.
      await containers.remove(record.Id, { guard: removalGuard({ containers, runcRoot }, record.Id, record.Name.slice(1)) });
      removed.push(record.Id);
      await removeAnonymousVolumes(root, volumesOf(mountRequestsOf(record), 'anonymous'));
    } catch {
      // Started again meanwhile, or removed by another process: left as it is.
    }
  }
  return removed;
}

export interface SweepReport {
  /** Build containers deleted (killed first if they still ran). */
  containers: string[];
  /** Containers a killed commit or cp left frozen, thawed. */
  thawed: string[];
  /** --rm containers whose killed supervisor could not remove them, removed. */
  autoRemoved: string[];
  /** Helper processes of exited processes (a killed build's ssh-agent), ended. */
  helpers: number[];
  /** Temp files and dirs removed (the state root's, and temp files outside it that killed commands noted). */
  paths: string[];
  /** Volumes of killed removals: put back, deleted (the removal had decided), or kept aside. */
  volumes: VolumeSweep;
  /** Temp files of killed writers of the machine's subnet claims (outside the state root: any root's sweep takes them). */
  claimTemps: string[];
}

/** Deletes (`runc delete -f`: kills, then removes the state) the build containers of exited builds. */
export async function sweepBuildContainers(runcRoot: string, options: SweepOptions = {}, runc = 'runc'): Promise<string[]> {
  const names = await fs.readdir(runcRoot).catch(() => [] as string[]);
  const deleted: string[] = [];
  for (const id of names) {
    if (!id.startsWith(BUILD_CONTAINER_PREFIX)) continue;
    const owner = parseOwner(id.slice(BUILD_CONTAINER_PREFIX.length));
    if (!owner || !ownerGone(owner)) continue;
    if (options.dryRun) {
      deleted.push(id);
      continue;
    }
    try {
      await run(runc, ['--root', runcRoot, 'delete', '-f', id]);
      deleted.push(id);
    } catch {
      // runc no longer knows it (its watchdog was faster): nothing to do
    }
  }
  return deleted;
}

const PAUSE_RECORD = '.pause';

/**
 * Notes that this process froze container `id` for a while (`commit` packs a running container
 * paused, `cp` copies in or out of one paused): if this process is killed meanwhile, a sweep
 * thaws it. Returns the function that drops the note once the container is thawed.
 */
export async function notePause(root: string, id: string): Promise<() => Promise<void>> {
  const tmpDir = path.join(root, 'tmp');
  await fs.mkdir(tmpDir, { recursive: true });
  const record = tempName(tmpDir, PAUSE_RECORD);
  await fs.writeFile(record, id, { flag: 'wx' });
  return () => fs.rm(record, { force: true });
}

/** Thaws the containers that exited processes froze and left frozen (their records go with the store's temps). */
async function thawLeftPaused(root: string, options: SweepOptions, runc = 'runc'): Promise<string[]> {
  const tmpDir = path.join(root, 'tmp');
  const thawed: string[] = [];
  for (const name of await fs.readdir(tmpDir).catch(() => [] as string[])) {
    const owner = name.endsWith(PAUSE_RECORD) ? tempOwner(name) : undefined;
    if (!owner || !ownerGone(owner)) continue;
    const id = (await fs.readFile(path.join(tmpDir, name), 'utf8').catch(() => '')).trim();
    if (!/^[0-9a-f]{64}$/.test(id)) continue;
    if (options.dryRun) thawed.push(id);
    else await run(runc, ['--root', path.join(root, 'runc'), 'resume', id]).then(() => thawed.push(id), () => undefined);
  }
  return thawed;
}

const HELPER_RECORD = '.helper';

/**
 * The note of a helper process this process is about to start and ends itself (a build's
 * private ssh-agent: it does not die with its parent): FILE is named after this process; the
 * helper writes its own pid and start time there (helperCommand), so a kill of this process
 * at any moment, right after the spawn too, leaves a helper a sweep can end. FORGET drops the
 * note once the helper has exited.
 */
export async function reserveHelperNote(root: string): Promise<{ file: string; forget: () => Promise<void> }> {
  const tmpDir = path.join(root, 'tmp');
  await fs.mkdir(tmpDir, { recursive: true });
  const file = tempName(tmpDir, HELPER_RECORD);
  return { file, forget: () => fs.rm(file, { force: true }) };
}

/**
 * COMMAND run so that it notes itself in NOTE first (reserveHelperNote): a shell writes its
 * own pid and start time (/proc/PID/stat's 22nd field, as owner.ts reads it) and execs the
 * command, which keeps both.
 */
export function helperCommand(note: string, command: string[]): [string, string[]] {
  const script = 'printf "%s.%s" "$$" "$(awk \'{ sub(/.*\\) /, ""); print $20 }\' /proc/$$/stat)" > "$0.part" && mv "$0.part" "$0" && exec "$@"';
  return ['sh', ['-c', script, note, ...command]];
}

/** Ends (SIGTERM) the helpers of exited processes that still run: the very process noted, by pid and start time. Their pids. */
async function endLeftHelpers(root: string, options: SweepOptions): Promise<number[]> {
  const tmpDir = path.join(root, 'tmp');
  const ended: number[] = [];
  for (const name of await fs.readdir(tmpDir).catch(() => [] as string[])) {
    const owner = name.endsWith(HELPER_RECORD) ? tempOwner(name) : undefined;
    if (!owner || !ownerGone(owner)) continue;
    const helper = parseOwner((await fs.readFile(path.join(tmpDir, name), 'utf8').catch(() => '')).trim());
    // Without a start time a pid may since be anyone's: such a helper is left alone.
    if (!helper?.start || processStartTime(helper.pid) !== helper.start) continue;
    if (!options.dryRun) {
      try {
        process.kill(helper.pid, 'SIGTERM');
      } catch {
        continue; // gone meanwhile
      }
    }
    ended.push(helper.pid);
  }
  return ended;
}

/**
 * Sweeps every leftover of exited strata processes in the state root `root`; with `dryRun`, only
 * reports them (the graveyards of container removals, which hold nothing anyone can use, are
 * then not listed). `orphanedAutoRemove: false` leaves the --rm containers of killed runs to
 * the next other command (finding them reads every container's record).
 */
export async function sweepLeftovers(root: string, options: SweepOptions & { orphanedAutoRemove?: boolean } = {}): Promise<SweepReport> {
  // Containers first: a build container still running may be writing into a scratch dir.
  const containers = await sweepBuildContainers(path.join(root, 'runc'), options);
  const thawed = await thawLeftPaused(root, options);
  // Before the notes go with the store's temps; an agent ended removes its socket itself.
  const helpers = await endLeftHelpers(root, options);
  const paths = await sweepStoreLeftovers(root, options);
  const autoRemoved = options.orphanedAutoRemove === false ? [] : await removeOrphanedAutoRemove(root, options);
  if (!options.dryRun) await new ContainerStore(root).sweepGraveyards();
  const volumes = sweepVolumeAsides(root, options);
  // Bridges, rules and addresses of killed network commands and containers (runtime/net).
  if (!options.dryRun) await sweepNetworks(root).catch(() => undefined);
  const claimTemps = await sweepClaimTemps(options).catch(() => []);
  return { containers, thawed, autoRemoved, helpers, paths, volumes, claimTemps };
}
