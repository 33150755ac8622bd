// `strata --host ssh://[USER@]HOST[:PORT] COMMAND ...` (or STRATA_HOST): the command runs on
// the other machine's strata over ssh, as Docker's client does with DOCKER_HOST=ssh://. The
// terminal goes through (ssh -t when both ends of ours are terminals); `build` streams its
// context directory as a tar (without what .dockerignore excludes) into `strata build -` there.
// Paths in other flags (-v, --iidfile, --secret src=...) are the remote machine's, as with a
// remote Docker daemon. STRATA_SSH_COMMAND replaces `ssh` (split at spaces, as GIT_SSH_COMMAND).
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { contextTar } from '../engine/index.js';
import { StrataError } from '../errors.js';

export interface RemoteHost {
  host: string;
  user?: string;
  port?: number;
  /** As given, for messages. */
  url: string;
}

/** Parses ssh://[USER@]HOST[:PORT] (nothing after the host, as Docker's). */
export function parseHost(text: string): RemoteHost {
  const bad = (why: string) => new StrataError(`invalid host "${text}": ${why}`);
  if (!text.startsWith('ssh://')) throw bad('only ssh://[USER@]HOST[:PORT] is supported');
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw bad('not a URL');
  }
  if ((u.pathname && u.pathname !== '/') || u.search || u.hash) throw bad('extra path after the host');
  if (u.password) throw bad('a password in the URL is not supported: use a key');
  if (!u.hostname) throw bad('no host');
  return { host: u.hostname.replace(/^\[|\]$/g, ''), user: u.username ? decodeURIComponent(u.username) : undefined, port: u.port ? Number(u.port) : undefined, url: text };
}

/**
 * The remote host the command line asks for: a leading `--host X` / `--host=X` / `-H X`, else
 * STRATA_HOST (empty: this machine). Returns the host and the command line without the flag.
 */
export function remoteTarget(argv: string[], env: NodeJS.ProcessEnv = process.env): { host: RemoteHost; args: string[] } | undefined {
  let value: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--host' || a === '-H') {
      if (i + 1 >= argv.length) throw new StrataError(`flag needs an argument: ${a}`);
      value = argv[++i];
    } else if (a.startsWith('--host=')) value = a.slice(7);
    else break;
  }
  if (value === undefined) value = env.STRATA_HOST || undefined;
  if (value === undefined) return undefined;
  return { host: parseHost(value), args: argv.slice(i) };
}

/** Build flags that take a value (the rest are booleans): what tells the context apart from flag values. */
const BUILD_VALUE_FLAGS = new Set([
  '-t', '--tag', '-f', '--file', '--build-arg', '--target', '--no-cache-filter', '--label', '--iidfile', '--network', '--progress',
  '--metadata-file', '--secret', '--ssh', '--cache-from', '--cache-to', '--platform', '-o', '--output', '--add-host', '--build-context',
  '--shm-size', '--ulimit', '--cgroup-parent', '--memory', '--memory-swap', '--cpu-shares', '--cpuset-cpus', '--isolation', '--annotation',
]);

/** A build's command line with its local context replaced by `-` (the tar on stdin), and that tar's source. */
async function remoteBuild(args: string[]): Promise<{ args: string[]; context?: () => Promise<NodeJS.ReadableStream> }> {
  const positions: number[] = [];
  let fileAt: number | undefined;
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      for (let j = i + 1; j < args.length; j++) positions.push(j);
      break;
    }
    if (BUILD_VALUE_FLAGS.has(a)) {
      if (a === '-f' || a === '--file') fileAt = i + 1;
      i++;
    } else if (a.startsWith('--file=')) fileAt = i;
    else if (!a.startsWith('-') || a === '-') positions.push(i);
  }
  if (positions.length !== 1) return { args }; // the remote strata says what is wrong
  const ctx = args[positions[0]];
  if (ctx === '-' || /^(https?|git|ssh):\/\/|^git@|\.git(#|$)/.test(ctx)) return { args };
  const out = [...args];
  const dir = path.resolve(ctx);
  const always = ['Dockerfile', 'dockerfile'];
  if (fileAt !== undefined && fileAt < args.length) {
    const given = args[fileAt].startsWith('--file=') ? args[fileAt].slice(7) : args[fileAt];
    if (given === '-') throw new StrataError('with --host, the Dockerfile cannot come from stdin: the build context is sent there');
    const rel = path.relative(dir, path.resolve(given));
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) throw new StrataError(`with --host, the Dockerfile must be inside the build context: "${given}" is not in "${ctx}"`);
    const posix = rel.split(path.sep).join('/');
    out[fileAt] = args[fileAt].startsWith('--file=') ? `--file=${posix}` : posix;
    always.push(posix, `${posix}.dockerignore`);
  }
  out[positions[0]] = '-';
  return { args: out, context: () => contextTar(dir, always) };
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Runs the command on the host; resolves with its exit code (ssh's own failures: 255, with ssh's message). */
export async function runRemote(target: { host: RemoteHost; args: string[] }, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { host } = target;
  const plan = target.args[0] === 'build' ? await remoteBuild(target.args) : { args: target.args, context: undefined };
  const context = plan.context ? await plan.context() : undefined;
  const terminal = !context && !!process.stdin.isTTY && !!process.stdout.isTTY;
  const ssh = (env.STRATA_SSH_COMMAND?.trim() || 'ssh').split(/\s+/);
  const sshArgs = [
    ...ssh.slice(1), ...(host.port ? ['-p', String(host.port)] : []), ...(host.user ? ['-l', host.user] : []), terminal ? '-t' : '-T',
    '--', host.host, ['strata', ...plan.args].map(quote).join(' '),
  ];
  const child = spawn(ssh[0], sshArgs, { stdio: [context ? 'pipe' : 'inherit', 'inherit', 'inherit'] });
  if (context) {
    child.stdin!.on('error', () => undefined); // the remote side stopped reading: its exit says why
    context.on('error', (err: Error) => {
      process.stderr.write(`strata: sending the build context: ${err.message}\n`);
      child.kill('SIGTERM');
    });
    context.pipe(child.stdin!);
  }
  return new Promise((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => reject(new StrataError(err.code === 'ENOENT' ? `cannot run "${ssh[0]}" to reach ${host.url}: not found` : `cannot run "${ssh[0]}": ${err.message}`)));
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
  });
}
