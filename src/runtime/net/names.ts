// Names of the kernel objects of one state root's networks. Several state roots (other users,
// concurrent test runs) share the machine, so every name carries the root's id, derived from
// its path and inode: bridges "sb<id><n>", host ends of veth pairs "sv<id><random>", the
// nftables table "strata_<id>" (Linux limits device names to 15 characters).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from '../../random.js';

/** Where the machine-wide subnet claims and their lock live (tmpfs: gone with the kernel state at reboot). */
export const MACHINE_DIR = process.env.STRATA_NET_DIR ?? '/run/strata-net';

/** FNV-1a, 32 bits: enough to tell the few state roots of one machine apart, without node:crypto. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export interface RootIdentity {
  /** The state root as given. */
  root: string;
  /** 8 hex digits. */
  id: string;
  /** The root directory's inode: a root removed and made again at the same path is another root. */
  ino: number;
}

const cache = new Map<string, RootIdentity>();

export function rootIdentity(root: string): RootIdentity {
  let found = cache.get(root);
  if (!found) {
    const real = fs.realpathSync(root);
    const ino = fs.statSync(real).ino;
    found = { root: path.resolve(root), id: fnv1a(`${real}\0${ino}`).toString(16).padStart(8, '0'), ino };
    cache.set(root, found);
  }
  return found;
}

export function bridgeName(rootId: string, index: number): string {
  return `sb${rootId}${index.toString(36)}`;
}

/** A fresh name for the host end of a container's veth pair. */
export function vethName(rootId: string): string {
  return `sv${rootId}${randomBytes(3).toString('hex').slice(0, 5)}`;
}

export function tableName(rootId: string): string {
  return `strata_${rootId}`;
}

/** Whether a device name is one of this root's (bridge or veth). */
export function ownsDevice(rootId: string, dev: string): boolean {
  return dev.startsWith(`sb${rootId}`) || dev.startsWith(`sv${rootId}`);
}
