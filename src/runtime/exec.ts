// `exec`: another process in a running container's namespaces and cgroup, through `runc exec`.
// runc starts from the container's own process spec (env, capabilities, user, cwd) and applies
// our overrides; its exit status is the process's, passed through; a command that cannot be
// started gets Docker's 126/127.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { makeTempDirSync } from '../store/index.js';
import { allCapabilities } from './host-config.js';
import { checkExecutable, exitCodeForRuntimeError } from './lookpath.js';
import { ptyRuncWrapper } from './shim/pty.js';
import { runcState } from './shim/state.js';
import { parseSpecJson, specJson } from './ulimits.js';
import { UnionView } from './union.js';
import { resolveUser } from './user.js';

export interface ExecOptions {
  /** The state root: runc's log goes in its tmp/. */
  stateRoot: string;
  id: string;
  runcRoot: string;
  args: string[];
  /** Extra "KEY=value" entries on top of the container's environment. */
  env?: string[];
  cwd?: string;
  /** Docker's -u; resolved against the container's /etc/passwd and /etc/group. */
  user?: string;
  /** The container's --group-add groups, which an exec -u user joins too (as Docker's). */
  additionalGroups?: string[];
  /** The container's layers and upper dir, to read /etc/passwd for a user name and find the command. */
  rootfs?: { lowerDirs: string[]; upperDir: string };
  /** The container's environment and mount points: where the command is looked up. */
  containerEnv?: string[];
  containerCwd?: string;
  mountPoints?: string[];
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  /** `exec --privileged`: every capability we hold, whatever the container's (as Docker's). */
  privileged?: boolean;
}

/** Runs the process to its end with our stdio (or detached); resolves with its exit code. */
export async function execInContainer(options: ExecOptions): Promise<number> {
  if (options.args.length === 0) throw new StrataError('no command specified');
  await precheckCommand(options);
  // runc's log (and a --user exec's process.json) in the state root's tmp/, named after this
  // process (`.tmp-PID.START-*.exec`): a later command sweeps it if this one is killed.
  const logDir = makeTempDirSync(options.stateRoot, '.exec');
  const logFile = path.join(logDir, 'runc.log');
  try {
    const args = ['--root', options.runcRoot, '--log', logFile, '--log-format', 'json', 'exec'];
    if (options.detach) args.push('--detach');
    const env = (options.env ?? []).map((e) => (e.includes('=') ? e : `${e}=${process.env[e] ?? ''}`));
    if (options.user) {
      // runc's --additional-gids adds to the container's own groups (root's, often wheel):
      // the new user's process is given whole, its groups exactly those of the user.
      const file = path.join(logDir, 'process.json');
      fs.writeFileSync(file, specJson(await userProcess(options, env)));
      args.push('--process', file, options.id);
    } else {
      if (options.tty && !options.detach) args.push('--tty');
      if (options.privileged) for (const cap of allCapabilities()) args.push('--cap', cap);
      for (const e of env) args.push('--env', e);
      if (options.cwd) args.push('--cwd', options.cwd);
      args.push(options.id, ...options.args);
    }
    // runc relays a tty exec's pty through a terminal of ours, and refuses to start without one
    // (`exec -t` in a script or CI, as Docker runs it): then it runs under `script`, which gives
    // it a pty of its own and copies the output to our stdout (shim/pty.ts, as a detached -t run).
    const ownPty = Boolean(options.tty && !options.detach && !process.stdin.isTTY && !process.stdout.isTTY && !process.stderr.isTTY);
    // Under `script`, a stdin at its end would reach the container as a byte: it is kept open.
    const stdin = options.detach || (!options.interactive && !ownPty) ? 'ignore' : options.interactive ? 'inherit' : 'pipe';
    const out = options.detach ? 'ignore' : ownPty ? 'pipe' : 'inherit';
    // Without a tty, stderr passes through a filter that drops runc's own "exec failed" line
    // (we report it once, our way); under `script`, runc's stderr is in its stdout. Without a
    // tty runc also gets its own process group, so a Ctrl-C reaches it once, from us.
    const err = options.detach ? 'ignore' : options.tty ? 'inherit' : 'pipe';
    const child = spawn(ownPty ? ptyRuncWrapper(logDir) : 'runc', args, { stdio: [stdin, out, err], detached: !options.tty });
    const withoutRuncError = (to: NodeJS.WriteStream) => (chunk: Buffer) => {
      if (!/^(runc )?exec failed: /.test(chunk.toString())) to.write(chunk);
    };
    child.stderr?.on('data', withoutRuncError(process.stderr));
    child.stdout?.on('data', withoutRuncError(process.stdout));
    const forward = (s: NodeJS.Signals) => child.kill(s);
    const signals: NodeJS.Signals[] = options.tty ? ['SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, forward);
    try {
      const code = await new Promise<number>((resolve, reject) => {
        child.once('error', (err) => reject(new StrataError(`starting runc: ${err.message}`)));
        child.once('close', (c, sig) => resolve(c ?? 128 + (os.constants.signals[sig ?? 'SIGKILL'] ?? 9)));
      });
      child.stdin?.destroy();
      if (code !== 0) {
        const failure = runtimeFailure(logFile);
        if (failure) throw new StrataError(failure.replace(/^(runc )?exec failed: /, ''), exitCodeForRuntimeError(failure));
      }
      return code;
    } finally {
      for (const s of signals) process.off(s, forward);
    }
  } finally {
    fs.rmSync(logDir, { recursive: true, force: true });
  }
}

/**
 * The process spec of an exec as another user: the container's own (capabilities, rlimits,
 * env) with the command, env, cwd, terminal and the user (uid, gid, supplementary groups from
 * the container's /etc/group, as runc and Docker set them for `run -u`).
 */
async function userProcess(options: ExecOptions, env: string[]): Promise<Record<string, unknown>> {
  if (!options.rootfs) throw new StrataError('exec: cannot resolve the user without the container root');
  const u = await resolveUser(UnionView.of(options.rootfs.lowerDirs, options.rootfs.upperDir), options.user!, options.additionalGroups);
  const bundle = runcState(options.runcRoot, options.id)?.bundle;
  if (!bundle) throw new StrataError(`container "${options.id.slice(0, 12)}" is not running`);
  const spec = parseSpecJson(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { process: Record<string, unknown> & { env?: string[]; user?: object } };
  const own = spec.process;
  return {
    ...own,
    args: options.args,
    env: [...(own.env ?? []), ...env],
    cwd: options.cwd ?? own.cwd,
    terminal: Boolean(options.tty && !options.detach),
    user: { ...own.user, uid: u.uid, gid: u.gid, additionalGids: u.additionalGids },
    ...(options.privileged ? { capabilities: Object.fromEntries(['bounding', 'effective', 'permitted'].map((set) => [set, allCapabilities()])) } : {}),
  };
}

/**
 * Finds the command in the container's files first, as `run` does, so a missing or
 * non-executable one gets Docker's message and 126/127 without runc's own error text. A
 * command under a mount point is only visible inside: runc decides then.
 */
async function precheckCommand(options: ExecOptions): Promise<void> {
  if (!options.rootfs) return;
  const cwd = options.cwd ?? options.containerCwd ?? '/';
  const env = [...(options.containerEnv ?? []), ...(options.env ?? [])];
  const command = options.args[0]!;
  const under = (dir: string, p: string) => p === dir || p.startsWith(`${dir}/`);
  const pathDirs = (env.findLast((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':');
  const candidates = command.includes('/') ? [path.posix.resolve(cwd, command)] : pathDirs.map((d) => path.posix.resolve(cwd, d || '.'));
  if ((options.mountPoints ?? []).some((m) => candidates.some((c) => under(m, c)))) return;
  await checkExecutable(UnionView.of(options.rootfs.lowerDirs, options.rootfs.upperDir), command, env, cwd);
}

function runtimeFailure(logFile: string): string | undefined {
  let text = '';
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'error' || entry.level === 'fatal') return entry.msg;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}

/** `runc ps`: the host pids of the container's processes. */
export async function containerPids(runcRoot: string, id: string): Promise<number[]> {
  const child = spawn('runc', ['--root', runcRoot, 'ps', '--format', 'json', id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new StrataError(`listing the processes of container "${id.slice(0, 12)}": ${err.trim() || 'runc ps failed'}`);
  return (JSON.parse(out || '[]') as number[] | null) ?? [];
}
