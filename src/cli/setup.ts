// `strata setup`: checks the host (runc, overlayfs with a real mount, namespaces, the attr
// tools), installs the missing Debian packages when root, and creates busybox:latest from
// busybox-static. Idempotent: a second run finds everything in place.
import fs from 'node:fs/promises';
import path from 'node:path';
import { runFile as run } from '../run-file.js';
import type { Argv } from 'yargs';
import { StrataError } from '../errors.js';
import { closeHashPool } from '../hash/index.js';
import { BUSYBOX_BINARY, BUSYBOX_REF, createBusybox, isStaticElf, makeTempDir, openStore, stateRoot } from '../store/index.js';
import type { RegisterCommands } from './command.js';
import { shortId } from './format/human.js';


interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Each tool we need and the Debian package that provides it. */
const TOOLS: { name: string; probe: () => Promise<string>; pkg: string }[] = [
  { name: 'runc', pkg: 'runc', probe: async () => (await run('runc', ['--version'])).stdout.split('\n')[0] },
  { name: 'busybox-static', pkg: 'busybox-static', probe: async () => {
    if (!(await isStaticElf(BUSYBOX_BINARY))) throw new Error(`${BUSYBOX_BINARY} is not statically linked`);
    return (await run(BUSYBOX_BINARY, ['--help']).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))).stdout.split('\n')[0];
  } },
  { name: 'getfattr/setfattr', pkg: 'attr', probe: async () => (await run('getfattr', ['--version'])).stdout.split('\n')[0] },
];

async function probe(t: (typeof TOOLS)[number]): Promise<Check> {
  try {
    return { name: t.name, ok: true, detail: (await t.probe()).trim() };
  } catch (err) {
    return { name: t.name, ok: false, detail: (err as Error).message.split('\n')[0] };
  }
}

async function aptInstall(pkgs: string[]): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env, maxBuffer: 64 * 1024 * 1024 });
  try {
    await install();
  } catch {
    await run('apt-get', ['update', '-qq'], { env, maxBuffer: 64 * 1024 * 1024 });
    await install();
  }
}

/**
 * A real overlay mount: lower file visible through the merged dir, a write lands in upper. Made
 * in the state root (its tmp/), where strata's overlays live: in strata's own image /tmp is on
 * the container's overlay, which overlayfs refuses as an upper dir, while the state root is a
 * volume that works.
 */
export async function checkOverlay(root: string = stateRoot()): Promise<Check> {
  const dir = await makeTempDir(root, '.overlay-probe');
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => path.join(dir, d));
  let mounted = false;
  try {
    for (const d of [lower, upper, work, merged]) await fs.mkdir(d);
    await fs.writeFile(path.join(lower, 'probe'), 'lower');
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
    mounted = true;
    const seen = await fs.readFile(path.join(merged, 'probe'), 'utf8');
    await fs.writeFile(path.join(merged, 'new'), 'upper');
    const landed = await fs.readFile(path.join(upper, 'new'), 'utf8');
    if (seen !== 'lower' || landed !== 'upper') throw new Error('overlay mount does not behave');
    return { name: 'overlayfs', ok: true, detail: 'mounted a test overlay' };
  } catch (err) {
    return { name: 'overlayfs', ok: false, detail: ((err as { stderr?: string }).stderr || (err as Error).message).trim().split('\n')[0] };
  } finally {
    if (mounted) await run('umount', [merged]).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function checkNamespaces(): Promise<Check> {
  const wanted = ['pid', 'net', 'mnt', 'ipc', 'uts'];
  const missing = [];
  for (const ns of wanted) if (!(await fs.access(`/proc/self/ns/${ns}`).then(() => true, () => false))) missing.push(ns);
  if (missing.length) return { name: 'namespaces', ok: false, detail: `missing: ${missing.join(', ')}` };
  try {
    await run('unshare', ['--pid', '--net', '--mount', '--ipc', '--uts', '--fork', 'true']);
    return { name: 'namespaces', ok: true, detail: wanted.join(', ') };
  } catch (err) {
    return { name: 'namespaces', ok: false, detail: ((err as { stderr?: string }).stderr || (err as Error).message).trim() };
  }
}

async function cgroupInfo(): Promise<string> {
  const v2 = await fs.access('/sys/fs/cgroup/cgroup.controllers').then(() => true, () => false);
  if (v2) return 'v2 (unified)';
  const unified = await fs.access('/sys/fs/cgroup/unified').then(() => true, () => false);
  return unified ? 'v1 (hybrid)' : 'v1';
}

function print(c: Check): void {
  process.stdout.write(`${c.ok ? 'ok     ' : 'FAILED '} ${c.name.padEnd(18)} ${c.detail}\n`);
}

async function setup(a: { install?: boolean; 'no-install'?: boolean }): Promise<void> {
  const isRoot = process.getuid?.() === 0;
  let tools = await Promise.all(TOOLS.map(probe));
  const missing = TOOLS.filter((_, i) => !tools[i].ok).map((t) => t.pkg);
  if (missing.length && a.install !== false && !a['no-install'] && isRoot) {
    process.stdout.write(`installing Debian packages: ${missing.join(' ')}\n`);
    try {
      await aptInstall(missing);
    } catch (err) {
      process.stdout.write(`apt-get failed: ${((err as { stderr?: string }).stderr || (err as Error).message).trim().split('\n').pop()}\n`);
    }
    tools = await Promise.all(TOOLS.map(probe));
  }
  const checks = [...tools, await checkOverlay(), await checkNamespaces()];
  checks.forEach(print);
  process.stdout.write(`info    ${'cgroups'.padEnd(18)} ${await cgroupInfo()}\n`);
  const failed = checks.filter((c) => !c.ok);
  if (failed.length) {
    const hint = isRoot ? '' : ' (run as root to install packages)';
    throw new StrataError(`host check failed: ${failed.map((c) => c.name).join(', ')}${hint}`, 1);
  }
  const store = await openStore();
  try {
    const have = await store.resolveImage(BUSYBOX_REF).catch(() => undefined);
    if (have) {
      process.stdout.write(`ok      ${'busybox:latest'.padEnd(18)} present (${shortId(have.id)})\n`);
      return;
    }
    const img = await createBusybox(store);
    process.stdout.write(`ok      ${'busybox:latest'.padEnd(18)} created (${shortId(img.id)}) in ${store.root}\n`);
  } finally {
    await closeHashPool();
  }
}

export const register: RegisterCommands = (cli) =>
  cli.command('setup', 'Check the host and create the busybox base image', (y: Argv) => y
    .option('no-install', { type: 'boolean', describe: 'Only check: do not install missing Debian packages' })
    .option('install', { type: 'boolean', default: true, describe: 'Install missing Debian packages (as root; --install=false as --no-install)' }),
  (a) => setup(a));
