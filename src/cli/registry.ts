// pull, push, login, logout (and `image pull|push`): argument parsing and output over
// src/registry/. Errors are strata's own (exit 125), one line.
import type { Argv, CommandModule } from 'yargs';
import { StrataError } from '../errors.js';
import { familiarName, openStore, parseReference } from '../store/index.js';
import type { RegisterCommands } from './command.js';
import { timing } from '../timing.js';
import { transferProgress } from './transfer-progress.js';

const out = (s: string) => process.stdout.write(s);

/** Closes the registry connections and the compression pool, so the process ends at once. */
async function withRegistry(fn: (reg: typeof import('../registry/index.js')) => Promise<void>): Promise<void> {
  timing('command started');
  const reg = await import('../registry/index.js');
  try {
    await fn(reg);
  } finally {
    timing('command done');
    await reg.closeTransports();
    const { closeHashPool } = await import('../hash/index.js');
    await closeHashPool();
  }
}

/** Docker's "Using default tag: latest" before the pull or push of a name without tag or digest (not with -q or -a). */
function defaultTagNote(name: string, quiet?: boolean): void {
  if (quiet) return;
  let r;
  try {
    r = parseReference(name, { defaultTag: false });
  } catch {
    return; // the pull or push says what is wrong with it
  }
  if (!r.tag && !r.digest) out('Using default tag: latest\n');
}

/** What --all-tags says it pulled or pushed: the repository, REFERENCE without its tag. */
const untagged = (reference: string): string => reference.replace(/:[^:/]+$/, '');

const tlsFlag = (y: Argv) => y.option('tls-verify', { type: 'boolean', default: true, describe: 'Require HTTPS and verify certificates (false: also plain http)' });

export interface PullArgs { name: string; platform?: string; quiet?: boolean; 'tls-verify'?: boolean; 'all-tags'?: boolean }

export async function pullCmd(a: PullArgs): Promise<void> {
  await withRegistry(async ({ pull, allTagReferences }) => {
    const store = await openStore();
    const opts = { store, platform: a.platform, tlsVerify: a['tls-verify'] };
    // --all-tags: each tag pulled in turn, its digest after it; the status and name once, for the repository (as Docker).
    if (!a['all-tags']) defaultTagNote(a.name, a.quiet);
    const names = a['all-tags'] ? await allTagReferences(a.name, opts) : [a.name];
    let downloaded = false;
    let last;
    const warnings: string[] = [];
    for (const name of names) {
      const progress = transferProgress(a.quiet);
      try {
        last = await pull(name, { ...opts, progress });
      } finally {
        progress?.done();
      }
      downloaded ||= last.downloaded;
      if (last.platformWarning) warnings.push(last.platformWarning);
      if (!a.quiet) out(`Digest: ${last.digest}\n`);
    }
    const reference = a['all-tags'] ? untagged(last!.reference) : last!.reference;
    if (!a.quiet) {
      const name = familiarName(reference);
      out(downloaded ? `Status: Downloaded newer image for ${name}\n` : `Status: Image is up to date for ${name}\n`);
      // As Docker's: a single-platform image of another platform is pulled, with this warning.
      for (const w of new Set(warnings)) out(`WARNING: ${w}\n`);
    }
    out(`${reference}\n`);
  });
}

export interface PushArgs { name: string; quiet?: boolean; 'tls-verify'?: boolean; 'index-of'?: string | string[]; 'all-tags'?: boolean }

export async function pushCmd(a: PushArgs): Promise<void> {
  if (a['all-tags'] && a['index-of'] !== undefined) throw new StrataError('--all-tags and --index-of cannot be used together');
  await withRegistry(async ({ push, localTagReferences }) => {
    const store = await openStore();
    const opts = { store, tlsVerify: a['tls-verify'] };
    if (a['index-of'] === undefined && !a['all-tags']) defaultTagNote(a.name, a.quiet);
    // --all-tags: each local tag of the repository in turn, the repository said once (as Docker).
    const names = a['all-tags'] ? await localTagReferences(a.name, opts) : [a.name];
    let r;
    for (const [i, name] of names.entries()) {
      const progress = transferProgress(a.quiet);
      try {
        const indexOf = a['index-of'] === undefined ? undefined : ([] as string[]).concat(a['index-of']);
        r = await push(name, { ...opts, progress, platformImages: indexOf, announced: i > 0 });
      } finally {
        progress?.done();
      }
    }
    if (a.quiet) out(`${a['all-tags'] ? untagged(r!.reference) : r!.reference}\n`);
  });
}

async function readPasswordStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

interface LoginArgs { server?: string; username?: string; password?: string; 'password-stdin'?: boolean; 'tls-verify'?: boolean }

async function loginCmd(a: LoginArgs): Promise<void> {
  if (a.password !== undefined && a['password-stdin']) throw new StrataError('--password and --password-stdin are mutually exclusive');
  if (a['password-stdin'] && !a.username) throw new StrataError('must provide --username with --password-stdin');
  let password = a['password-stdin'] ? await readPasswordStdin() : a.password;
  let username = a.username;
  if (a.password !== undefined) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  await withRegistry(async ({ login, storedUsername }) => {
    // What is missing is asked on the terminal (login-prompt.ts), as Docker's CLI asks.
    if (!username?.trim() || !password?.trim()) {
      const { promptLogin } = await import('./login-prompt.js');
      ({ username, password } = await promptLogin({ username, password }, () => storedUsername(a.server)));
    }
    await login(a.server, { username: username!, password: password!, tlsVerify: a['tls-verify'] });
    out('Login Succeeded\n');
  });
}

async function logoutCmd(a: { server?: string }): Promise<void> {
  const { logout, registryDomain, DOCKER_HUB_KEY } = await import('../registry/index.js');

  // Docker's CLI names the default registry by its credentials key.
  const domain = a.server === undefined ? DOCKER_HUB_KEY : registryDomain(a.server);
  if (await logout(a.server)) out(`Removing login credentials for ${domain}\n`);
  else out(`Not logged in to ${domain}\n`);
}

const pullFlags = (y: Argv) => tlsFlag(y)
  .positional('name', { type: 'string', demandOption: true, describe: 'NAME[:TAG|@DIGEST]' })
  .option('platform', { type: 'string', describe: 'Set platform if server is multi-platform capable (os/arch[/variant])' })
  .option('quiet', { alias: 'q', type: 'boolean', describe: 'Suppress verbose output' })
  .option('all-tags', { alias: 'a', type: 'boolean', describe: 'Download all tagged images in the repository' });

const pushFlags = (y: Argv) => tlsFlag(y)
  .positional('name', { type: 'string', demandOption: true, describe: 'NAME[:TAG]' })
  .option('quiet', { alias: 'q', type: 'boolean', describe: 'Suppress verbose output' })
  .option('all-tags', { alias: 'a', type: 'boolean', describe: 'Push all tags of an image to the repository' })
  // Repeatable, but not an array option: that would swallow NAME.
  .option('index-of', { type: 'string', describe: 'Push an image index of these local images (one per platform) as NAME; repeatable' });

/** pull and push as yargs command modules (also mounted under `image`). */
export function transferCommands(): CommandModule[] {
  return [
    { command: 'pull <name>', describe: 'Download an image from a registry', builder: pullFlags, handler: (a) => pullCmd(a as unknown as PullArgs) },
    { command: 'push <name>', describe: 'Upload an image to a registry', builder: pushFlags, handler: (a) => pushCmd(a as unknown as PushArgs) },
  ];
}

interface ManifestInspectArgs { name: string; insecure?: boolean; verbose?: boolean; 'tls-verify'?: boolean }

/** `manifest inspect`: as Docker's, the registry's JSON indented with tabs (verbose: Docker's ImageManifest form). */
async function manifestInspectCmd(a: ManifestInspectArgs): Promise<void> {
  await withRegistry(async ({ inspectManifest }) => {
    const m = await inspectManifest(a.name, { tlsVerify: a.insecure ? false : a['tls-verify'], verbose: a.verbose });
    const shown = a.verbose ? m.verbose : JSON.parse(m.bytes.toString('utf8'));
    out(`${JSON.stringify(shown, null, '\t')}\n`);
  });
}

export const register: RegisterCommands = (cli) => transferCommands().reduce((y, c) => y.command(c), cli)
  .command('manifest', 'Inspect image manifests and manifest lists in a registry', (y: Argv) => y
    .command('inspect <name>', 'Display an image manifest, or manifest list', (c: Argv) => tlsFlag(c)
      .positional('name', { type: 'string', demandOption: true, describe: 'NAME[:TAG|@DIGEST]' })
      .option('insecure', { type: 'boolean', describe: 'Allow communication with an insecure registry (as --tls-verify=false)' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'Output additional info including layers and platform' }),
    (c) => manifestInspectCmd(c as unknown as ManifestInspectArgs))
    .demandCommand(1, 'a subcommand is required'))
  .command('login [server]', 'Log in to a registry', (y: Argv) => tlsFlag(y)
    .positional('server', { type: 'string', describe: 'Registry (default: Docker Hub)' })
    .option('username', { alias: 'u', type: 'string', describe: 'Username' })
    .option('password', { alias: 'p', type: 'string', describe: 'Password' })
    .option('password-stdin', { type: 'boolean', describe: 'Take the password from stdin' }),
  (a) => loginCmd(a as LoginArgs))
  .command('logout [server]', 'Log out from a registry', (y: Argv) => y
    .positional('server', { type: 'string', describe: 'Registry (default: Docker Hub)' }),
  (a) => logoutCmd(a as { server?: string }));
