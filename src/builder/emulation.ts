// Building for another architecture (`build --platform linux/arm64`): RUN steps execute the
// target's binaries through qemu-user-static, which the kernel starts by binfmt_misc. The
// entry must have the F flag (the interpreter opened when registered), or a container, whose
// root has no qemu, cannot reach it. Debian's qemu-user-static ships the entries in
// /usr/lib/binfmt.d; when one is absent it is registered from there, with F.
import fs from 'node:fs/promises';
import path from 'node:path';
import { runFile as run } from '../run-file.js';
import { StrataError } from '../errors.js';
import { hostPlatform, platformString, type Platform } from './args.js';


/** OCI architecture -> qemu's name for it (its binary, its binfmt entry). */
const QEMU: Readonly<Record<string, string>> = {
  arm64: 'aarch64', arm: 'arm', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips64le: 'mips64el', amd64: 'x86_64', '386': 'i386', loong64: 'loongarch64',
};

export interface EmulationOptions {
  /** binfmt_misc's mount point. */
  binfmtDir?: string;
  /** Where the distribution's entries are (Debian: /usr/lib/binfmt.d/qemu-NAME.conf). */
  confDir?: string;
  host?: Platform;
}

/** Whether RUN steps of `target` need an emulator on this machine. */
export function needsEmulation(target: Platform, host: Platform = hostPlatform()): boolean {
  if (target.os !== 'linux') return true;
  if (target.architecture === host.architecture) return false;
  // An x86_64 kernel runs i386 binaries, an arm64 one (usually) 32-bit arm ones.
  return !((host.architecture === 'amd64' && target.architecture === '386') || (host.architecture === 'arm64' && target.architecture === 'arm'));
}

/**
 * Makes sure binaries of `target` run here: nothing to do for the host's own; else the qemu
 * binfmt_misc entry must be registered (registered here from Debian's when absent) with F.
 * Throws one line saying what is missing and how to get it.
 */
export async function ensureEmulation(target: Platform, options: EmulationOptions = {}): Promise<void> {
  if (!needsEmulation(target, options.host)) return;
  const shown = platformString(target);
  const fail = (why: string) => new StrataError(`cannot build for ${shown}: ${why}`);
  if (target.os !== 'linux') throw fail('only linux platforms can be built');
  const name = QEMU[target.architecture];
  if (!name) throw fail(`no emulator is known for the architecture "${target.architecture}"`);
  const dir = options.binfmtDir ?? '/proc/sys/fs/binfmt_misc';
  if (!(await exists(path.join(dir, 'register')))) {
    // Not mounted (a fresh container, say): mount it where we may.
    await run('mount', ['-t', 'binfmt_misc', 'binfmt_misc', dir]).catch(() => undefined);
    if (!(await exists(path.join(dir, 'register')))) throw fail(`binfmt_misc is not mounted at ${dir} (as root: mount -t binfmt_misc binfmt_misc ${dir})`);
  }
  const entry = path.join(dir, `qemu-${name}`);
  if (!(await exists(entry))) {
    const conf = path.join(options.confDir ?? '/usr/lib/binfmt.d', `qemu-${name}.conf`);
    const line = (await fs.readFile(conf, 'utf8').catch(() => '')).split('\n').find((l) => l.startsWith(`:qemu-${name}:`));
    if (!line) throw fail(`no qemu emulator for ${target.architecture} is installed (apt-get install qemu-user-static)`);
    const fields = line.split(':');
    if (!fields[fields.length - 1].includes('F')) fields[fields.length - 1] += 'F';
    try {
      await fs.writeFile(path.join(dir, 'register'), fields.join(':'));
    } catch (err) {
      // Another build registered it meanwhile: fine.
      if (!(await exists(entry))) throw fail(`registering the qemu-${name} binfmt_misc entry failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const text = await fs.readFile(entry, 'utf8');
  if (!/^enabled$/m.test(text)) throw fail(`the binfmt_misc entry qemu-${name} is disabled (echo 1 > ${entry})`);
  const flags = /^flags: *(\S*)$/m.exec(text)?.[1] ?? '';
  if (!flags.includes('F')) throw fail(`the binfmt_misc entry qemu-${name} has no F flag, so containers cannot reach its interpreter (register it again with F, as Debian's qemu-user-static does)`);
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}

/** "linux/arm64" or "linux/arm/v7" (an "os/arch[/variant]" of --platform) as a Platform. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...rest] = text.trim().toLowerCase().split('/');
  const arch = architecture === 'x86_64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture;
  if (!os || !arch || rest.length) throw new StrataError(`invalid platform "${text}": expected os/arch[/variant], e.g. linux/arm64`);
  return { os, architecture: arch, ...(variant ? { variant } : {}) };
}
