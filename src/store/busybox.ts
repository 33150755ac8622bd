// busybox:latest from the host's busybox-static: a rootfs with /bin/busybox, its applet
// symlinks, the official image's /etc/passwd and /etc/group and the usual directories, with
// fixed mtimes so that two setups on one machine give the same image ID.
import fs from 'node:fs/promises';
import path from 'node:path';
import { runFile as run } from '../run-file.js';
import { StrataError } from '../errors.js';
import { tempName } from './fsutil.js';
import type { Store } from './store.js';
import type { Image, ImageConfig } from './types.js';


export const BUSYBOX_REF = 'docker.io/library/busybox:latest';
export const BUSYBOX_BINARY = '/bin/busybox';
/** 2024-01-01T00:00:00Z: every mtime in the image and its `created`. */
const EPOCH = 1704067200;

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;

/** Locked passwords, as in the official image. */
const SHADOW = PASSWD.trim().split('\n').map((l) => `${l.split(':')[0]}:*:10933:0:99999:7:::`).join('\n') + '\n';

const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`;

const DIRS: [string, number][] = [
  ['bin', 0o755], ['dev', 0o755], ['etc', 0o755], ['home', 0o755], ['proc', 0o555], ['root', 0o700],
  ['sbin', 0o755], ['sys', 0o555], ['tmp', 0o1777], ['usr', 0o755], ['usr/bin', 0o755], ['usr/sbin', 0o755],
  ['var', 0o755], ['var/spool', 0o755], ['var/spool/mail', 0o755], ['var/www', 0o755],
];

/** GOARCH-style name of this machine, as image configs spell it. */
export function imageArchitecture(arch: string = process.arch): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}

/** True if the ELF file has no program interpreter (statically linked). */
export async function isStaticElf(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(64);
    await fh.read(head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) return false; // ELF64 little-endian only
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    await fh.read(ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    return true;
  } finally {
    await fh.close();
  }
}

/** Builds the busybox rootfs in `dir` (which must exist and be empty). */
export async function buildBusyboxRootfs(dir: string, binary = BUSYBOX_BINARY): Promise<void> {
  if (!(await isStaticElf(binary).catch(() => false))) {
    throw new StrataError(`"${binary}" is not a static busybox: install the Debian package "busybox-static"`);
  }
  for (const [d, mode] of DIRS) {
    await fs.mkdir(path.join(dir, d), { recursive: true });
    await fs.chmod(path.join(dir, d), mode);
  }
  await fs.copyFile(binary, path.join(dir, 'bin/busybox'));
  await fs.chmod(path.join(dir, 'bin/busybox'), 0o755);
  const { stdout } = await run(binary, ['--list-full']);
  for (const applet of stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
    if (applet.includes('..') || applet.startsWith('/') || applet === 'bin/busybox') continue;
    const link = path.join(dir, applet);
    await fs.mkdir(path.dirname(link), { recursive: true });
    await fs.symlink('/bin/busybox', link).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  await fs.writeFile(path.join(dir, 'etc/passwd'), PASSWD, { mode: 0o644 });
  await fs.writeFile(path.join(dir, 'etc/group'), GROUP, { mode: 0o644 });
  await fs.writeFile(path.join(dir, 'etc/shadow'), SHADOW, { mode: 0o600 });
  await fs.chmod(path.join(dir, 'etc/shadow'), 0o600);
}

export function busyboxConfig(): ImageConfig {
  const created = new Date(EPOCH * 1000).toISOString().replace('.000Z', 'Z');
  return {
    created,
    architecture: imageArchitecture(),
    os: 'linux',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
    },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [
      { created, created_by: `/bin/sh -c #(nop) ADD file:busybox-static in / ` },
      { created, created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
    ],
  };
}

/** Creates busybox:latest in the store (same ID every time on this machine). */
export async function createBusybox(store: Store, binary = BUSYBOX_BINARY): Promise<Image> {
  await store.init();
  const dir = tempName(store.tmpDir, '.rootfs');
  await fs.mkdir(dir, { mode: 0o755 });
  try {
    await buildBusyboxRootfs(dir, binary);
    const layer = await store.createLayerFromDir(dir, { sourceDateEpoch: EPOCH });
    return await store.writeImage(busyboxConfig(), [layer], { tags: [BUSYBOX_REF] });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** busybox:latest, created if the store does not have it yet (for tests: fast when warm). */
export async function ensureBusybox(store: Store): Promise<Image> {
  try {
    return await store.resolveImage(BUSYBOX_REF);
  } catch (err) {
    if (!(err instanceof StrataError) || !err.message.startsWith('no such image')) throw err;
  }
  return createBusybox(store);
}
