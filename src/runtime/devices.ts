// Host device nodes for a container's spec: `--device` (a node, or every node under a host
// directory, as Docker's), and all of the host's with `--privileged` (moby's
// devices.HostDevices). Read at each start: a node's numbers are the host's of that moment.
import fs from 'node:fs';
import path from 'node:path';
import { StrataError } from '../errors.js';
import type { OciDevice } from './spec.js';
import type { DeviceRequest } from './types.js';

/** Dirs under /dev that hold no devices for a container (runc makes its own pts, shm, mqueue). */
const SKIPPED = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

function major(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}

function minor(rdev: number): number {
  return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & 0xfff00n);
}

function nodeOf(st: fs.Stats, containerPath: string, access: string): OciDevice | undefined {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  return { path: containerPath, type, major: major(st.rdev), minor: minor(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid, access };
}

/** Every device node under DIR (recursively; symlinks not followed), mapped under TARGET. */
function nodesUnder(dir: string, target: string, access: string, skip = new Set<string>()): OciDevice[] {
  const out: OciDevice[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (skip.has(e.name)) continue;
    const host = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...nodesUnder(host, path.posix.join(target, e.name), access));
    else if (e.isCharacterDevice() || e.isBlockDevice()) {
      const node = nodeOf(fs.lstatSync(host), path.posix.join(target, e.name), access);
      if (node) out.push(node);
    }
  }
  return out;
}

/** The spec devices of `--device` requests. A missing host node is the user's error. */
export function resolveDevices(requests: DeviceRequest[]): OciDevice[] {
  const out: OciDevice[] = [];
  for (const r of requests) {
    let st: fs.Stats;
    try {
      st = fs.statSync(r.hostPath);
    } catch (err) {
      throw new StrataError(`error gathering device information while adding custom device "${r.hostPath}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    if (st.isDirectory()) {
      out.push(...nodesUnder(r.hostPath, r.containerPath, r.permissions));
      continue;
    }
    const node = nodeOf(st, r.containerPath, r.permissions);
    if (!node) throw new StrataError(`error gathering device information while adding custom device "${r.hostPath}": not a device node`);
    out.push(node);
  }
  return out;
}

/** All of the host's device nodes (`--privileged`). */
export function hostDevices(): OciDevice[] {
  // /dev/console is runc's to set up (the container's terminal, or none).
  return nodesUnder('/dev', '/dev', 'rwm', SKIPPED).filter((d) => d.path !== '/dev/console');
}

/** Where Docker mounts its init: the container's PID 1 is this, the command its child. */
export const INIT_PATH = '/sbin/docker-init';

/** An init on the host to bind-mount into the container (statically linked): Debian's catatonit or tini. */
export function hostInit(candidates = ['/usr/bin/catatonit', '/usr/libexec/podman/catatonit', '/usr/bin/tini-static', '/usr/bin/docker-init']): string {
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  throw new StrataError('--init: no init binary found on this host (install Debian\'s "catatonit" or "tini")');
}
