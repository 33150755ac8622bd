// ADD of a git repository (`ADD https://host/repo.git#ref:subdir /dst`, `git@host:repo.git`,
// `git://`, `ssh://`), fetched with the host's git. The ref is resolved to a commit before
// anything runs (`git ls-remote`): the commit is what the step's cache key holds, so a moved
// branch misses and an unchanged one stays cached. The checkout's files get the commit's time
// (the same commit gives the same layer), owner root; `.git` is dropped unless --keep-git-dir.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface GitSource {
  /** The word as written in the Dockerfile. */
  word: string;
  /** What git fetches from (the URL without its fragment). */
  remote: string;
  /** Branch, tag, full commit or ref; undefined: the remote's HEAD. */
  ref?: string;
  /** A directory of the repository to add instead of its root. */
  subdir?: string;
}

/** A git source if the word is one (BuildKit's forms); undefined for anything else. */
export function parseGitSource(word: string): GitSource | undefined {
  const hash = word.indexOf('#');
  const remote = hash < 0 ? word : word.slice(0, hash);
  const fragment = hash < 0 ? '' : word.slice(hash + 1);
  const isGit = /^(git|ssh):\/\//.test(remote) || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.test(remote) || (/^https?:\/\//.test(remote) && /\.git\/?$/.test(new URL(remote).pathname));
  if (!isGit) return undefined;
  const colon = fragment.indexOf(':');
  const ref = (colon < 0 ? fragment : fragment.slice(0, colon)) || undefined;
  const subdir = colon < 0 ? undefined : fragment.slice(colon + 1).split('/').filter((p) => p && p !== '.').join('/') || undefined;
  if (ref && !/^[A-Za-z0-9._/^{}@+-]+$/.test(ref)) throw new Error(`invalid git ref "${ref}" in "${word}"`);
  if (subdir?.split('/').includes('..')) throw new Error(`invalid git subdir "${subdir}" in "${word}": it leaves the repository`);
  return { word, remote, ref, subdir };
}

/** Transports git may use for a Dockerfile's URL: never the host's files (file://, ext::). */
const GIT_ENV = { GIT_ALLOW_PROTOCOL: 'git:http:https:ssh', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', SSH_ASKPASS: 'true' };

export interface GitOptions {
  /** SSH_AUTH_SOCK for ssh remotes (the --ssh default agent). */
  sshAuthSock?: string;
  signal?: AbortSignal;
}

async function git(args: string[], o: GitOptions & { cwd?: string }): Promise<string> {
  const env = { ...process.env, ...GIT_ENV, ...(o.sshAuthSock ? { SSH_AUTH_SOCK: o.sshAuthSock } : {}), GIT_SSH_COMMAND: 'ssh -o BatchMode=yes' };
  const child = spawn('git', args, { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], signal: o.signal });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw new Error(`git ${args[0] === '-C' ? args[2] : args[0]} failed: ${err.trim().split('\n').filter(Boolean).pop() ?? `exit code ${code}`}`);
  return out;
}

const FULL_SHA = /^[0-9a-f]{40}$/;

/** The commit a source's ref names on its remote now (and the ref to fetch it by). */
export async function resolveGitCommit(src: GitSource, o: GitOptions = {}): Promise<{ commit: string; fetchRef: string }> {
  if (src.ref && FULL_SHA.test(src.ref)) return { commit: src.ref, fetchRef: src.ref };
  const ref = src.ref ?? 'HEAD';
  const out = await git(['ls-remote', '--', src.remote, ref, `${ref}^{}`], o).catch((err: Error) => {
    throw new Error(`${src.word}: ${err.message}`);
  });
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [sha, name] = line.split('\t');
    if (sha && name) refs.set(name, sha);
  }
  // Exact names first; an annotated tag's peeled commit over the tag object; tags over branches (as git does).
  const candidates = ref === 'HEAD' ? ['HEAD'] : ref.startsWith('refs/') ? [ref] : [`refs/tags/${ref}`, `refs/heads/${ref}`];
  for (const name of candidates) {
    const sha = refs.get(`${name}^{}`) ?? refs.get(name);
    if (sha) return { commit: sha, fetchRef: name };
  }
  throw new Error(`${src.word}: git ref "${ref}" not found`);
}

/**
 * Fetches one commit into `dir` (a fresh directory) and returns the directory to add: the
 * checkout or its subdir. Entries get the commit time; `.git` stays only with keepGitDir.
 */
export async function checkoutGit(src: GitSource, resolved: { commit: string; fetchRef: string }, dir: string, keepGitDir: boolean, o: GitOptions = {}): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await git(['init', '-q', dir], o);
  const fetch = (ref: string, depth: boolean) => git(['-C', dir, 'fetch', '-q', '--no-tags', ...(depth ? ['--depth', '1'] : []), '--', src.remote, ref], o);
  try {
    await fetch(resolved.fetchRef, true);
  } catch (err) {
    // A server that refuses a commit it does not advertise: take everything, then pick it.
    if (resolved.fetchRef !== resolved.commit) throw err;
    await fetch('+refs/*:refs/strata-fetched/*', false);
  }
  await git(['-C', dir, '-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', resolved.commit], o).catch(() => {
    throw new Error(`${src.word}: ${resolved.fetchRef} is no longer at ${resolved.commit.slice(0, 12)} (the repository changed during the build)`);
  });
  const head = (await git(['-C', dir, 'rev-parse', 'HEAD'], o)).trim();
  if (head !== resolved.commit) throw new Error(`${src.word}: checked out ${head}, expected ${resolved.commit}`);
  const time = new Date(Number((await git(['-C', dir, 'log', '-1', '--format=%ct'], o)).trim()) * 1000);
  // Submodules come along, as BuildKit fetches them (same transports only).
  const hasModules = await fs.lstat(path.join(dir, '.gitmodules')).then((st) => st.isFile(), () => false);
  if (hasModules) await git(['-C', dir, 'submodule', 'update', '--init', '--recursive', '--depth', '1'], o);
  if (!keepGitDir) await removeGitDirs(dir, hasModules);
  // Component by component: a symlink in the subdir's path could lead out of the checkout.
  let root = dir;
  for (const part of src.subdir?.split('/') ?? []) {
    root = path.join(root, part);
    const st = await fs.lstat(root).catch(() => undefined);
    if (!st?.isDirectory()) throw new Error(`${src.word}: subdir "${src.subdir}" is not a directory of the repository`);
  }
  await stampTimes(dir, time);
  return root;
}

/** Drops `.git` at the top and, with submodules, the `.git` link files they leave in the tree. */
async function removeGitDirs(dir: string, nested: boolean): Promise<void> {
  await fs.rm(path.join(dir, '.git'), { recursive: true, force: true });
  if (!nested) return;
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await removeGitDirs(path.join(dir, e.name), true);
  }
}

/** Sets every entry's mtime (symlinks themselves too), children before their directory. */
async function stampTimes(dir: string, time: Date): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await stampTimes(p, time);
    else await fs.lutimes(p, time, time);
  }
  await fs.utimes(dir, time, time);
}
