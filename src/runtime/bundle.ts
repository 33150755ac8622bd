// Preparing a runc bundle for a RunSpec: user and command resolved against the image's files,
// the init layer, short links to the layer dirs (the overlay mount data is limited to one page,
// so lowerdir lists "../l/0:../l/1..." instead of long store paths), /etc files, config.json.
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { writeEtcFiles, writeInitLayer } from './etc.js';
import { checkExecutable, DEFAULT_PATH } from './lookpath.js';
import { defaultSeccomp } from './seccomp.js';
import { buildRuntimeSpec, DEFAULT_CAPABILITIES } from './spec.js';
import type { RunSpec } from './types.js';
import { distinctLayers, UnionView } from './union.js';
import { resolveUser } from './user.js';

/** overlayfs stacks at most 500 layers (OVL_MAX_STACK); the init layer takes one. */
export const MAX_LAYERS = 499;

export interface PreparedBundle {
  dir: string;
  config: Record<string, unknown>;
}

let nofileCache: { soft: number; hard: number } | undefined;

/** Our own RLIMIT_NOFILE hard limit, given to the container as both limits (as Docker's daemon passes its own on). */
async function nofileLimit(): Promise<{ soft: number; hard: number }> {
  if (nofileCache) return nofileCache;
  const text = await fs.readFile('/proc/self/limits', 'utf8').catch(() => '');
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  const hard = m && m[2] !== 'unlimited' ? Math.min(Number(m[2]), 1048576) : 1048576;
  nofileCache = { soft: hard, hard };
  return nofileCache;
}

/** Promise.all that lets every task finish before failing, so no write races the caller's cleanup. */
async function settleAll<T extends readonly unknown[]>(tasks: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

function withDefaultPath(env: string[]): string[] {
  return env.some((e) => e.startsWith('PATH=')) ? env : [`PATH=${DEFAULT_PATH}`, ...env];
}

/** Whether the command's lookup (its path, or a PATH dir) reaches into one of the container's mounts. */
function commandMayBeUnderMount(spec: RunSpec, env: string[]): boolean {
  const command = spec.args[0] ?? '';
  const dirs = command.includes('/')
    ? [path.posix.resolve(spec.cwd, command)]
    : (env.findLast((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH).split(':').map((d) => path.posix.resolve(spec.cwd, d || '.'));
  return spec.mounts.some((m) => dirs.some((d) => d === m.destination || d.startsWith(`${m.destination.replace(/\/$/, '')}/`)));
}

/** Writes the bundle for `spec` into `dir` (created if needed) and returns its config. */
export async function prepareBundle(spec: RunSpec, id: string, dir: string): Promise<PreparedBundle> {
  const { upperDir, workDir } = spec.rootfs;
  const lowerDirs = distinctLayers(spec.rootfs.lowerDirs);
  if (lowerDirs.length > MAX_LAYERS) throw new StrataError(`too many layers: ${lowerDirs.length} (overlayfs stacks at most ${MAX_LAYERS})`);
  if (!path.posix.isAbsolute(spec.cwd)) throw new StrataError(`the working directory "${spec.cwd}" is invalid, it needs to be an absolute path`);
  const view = UnionView.of(lowerDirs, upperDir);
  const env = withDefaultPath(spec.env);
  const hostname = spec.hostname ?? id.slice(0, 12);
  const linkDir = path.join(dir, 'l');
  const initDir = path.join(dir, 'init');
  // Synchronous file work on purpose (see union.ts): it is a few dozen cheap syscalls.
  fsSync.rmSync(linkDir, { recursive: true, force: true });
  fsSync.mkdirSync(linkDir, { recursive: true });
  fsSync.mkdirSync(path.join(dir, 'rootfs'), { recursive: true });
  lowerDirs.forEach((layer, i) => fsSync.symlinkSync(layer, path.join(linkDir, String(i))));
  const etc = writeEtcFiles(dir, hostname, spec.network);
  writeInitLayer(initDir, view, spec.mounts.map((m) => m.destination));
  const [user, nofile] = await settleAll([
    resolveUser(view, spec.user, spec.additionalGroups),
    nofileLimit(),
    checkExecutable(view, spec.args[0] ?? '', env, spec.cwd).catch((err: unknown) => {
      // A command under a mount is only visible inside the container: there, runc decides.
      if (!commandMayBeUnderMount(spec, env)) throw err;
    }),
  ]);
  // lowerdir lists the top first; runc mounts from the bundle's rootfs dir as its working directory.
  const lowers = ['../init', ...lowerDirs.map((_, i) => `../l/${i}`).reverse()];
  const config = buildRuntimeSpec({
    args: spec.args,
    env,
    cwd: spec.cwd,
    user,
    hostname,
    network: spec.network,
    terminal: spec.terminal ?? false,
    readonlyRoot: spec.rootfs.readonly ?? false,
    overlay: { lowerdir: lowers.join(':'), upperdir: path.resolve(upperDir), workdir: path.resolve(workDir) },
    etc,
    mounts: spec.mounts,
    memoryBytes: spec.memoryBytes,
    cgroupsPath: `/strata/${id}`,
    nofile,
    seccomp: spec.seccomp === 'unconfined' ? undefined : defaultSeccomp(DEFAULT_CAPABILITIES),
  });
  fsSync.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return { dir, config };
}
