// Leases: what a command in progress (a build, load, pull or commit) uses or writes in the store,
// so that no garbage collection removes it meanwhile (as containerd's leases do). A lease is a file in
// <root>/leases/ named after its owner ("PID.START-RANDOM.json") and listing digests (image
// IDs, manifests, layer blobs, layer diff_ids). It holds only while its owner lives: a lease
// of a process that exited, even by `kill -9`, is ignored by the collector and swept, so a dead
// build never pins anything for good.
//
// A lease is written under the store lock, the lock the collector holds while it decides what
// to remove: once add() has returned and found its digests present, they stay until release().
//
// A lease may also use an image as a container does (use(): a `create` between resolving its
// image and writing its record): rmi and prune then keep that image itself, its index entry
// with it (untagged at most), as they keep a container's image, not only its blobs and layers.
import { mkdirSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from '../random.js';
import type { Digest } from './types.js';
import { atomicWriteSync } from './fsutil.js';
import { withLock } from './lock.js';
import { ownerGone, ownerStamp, parseOwner } from './owner.js';

export interface LeaseRecord {
  /** What holds it, for `system check` and people: "build", "load", "pull", "commit". */
  purpose: string;
  created: string;
  digests: Digest[];
  /** Image IDs used as a container uses its image (use()): rmi and prune keep these images. */
  images?: Digest[];
}

export const leasesDir = (root: string) => path.join(root, 'leases');
const lockOf = (root: string) => path.join(root, 'lock');

export class Lease {
  private readonly digests = new Set<Digest>();
  private readonly images = new Set<Digest>();
  private released = false;

  private constructor(
    readonly root: string,
    readonly file: string,
    readonly purpose: string,
  ) {}

  /** A new, empty lease of this process. Nothing is written until something is added. */
  static create(root: string, purpose: string): Lease {
    return new Lease(root, path.join(leasesDir(root), `${ownerStamp()}-${randomBytes(6).toString('hex')}.json`), purpose);
  }

  /** What the lease holds. */
  held(): ReadonlySet<Digest> {
    return this.digests;
  }

  /**
   * Adds digests to the lease, then (under the same lock) runs `check`, which tells whether what
   * was leased is still there: a collector that ran just before may have removed it. The
   * digests are held either way, until release().
   */
  add<T = void>(digests: Iterable<Digest>, check?: () => Promise<T>): Promise<T | undefined> {
    return this.write(digests, [], check);
  }

  /**
   * Like add(), and the image `imageId` is in use as a container's image is: until release(),
   * rmi and prune keep the image (its index entry, untagged at most), not only what `digests` name.
   */
  use<T = void>(imageId: Digest, digests: Iterable<Digest>, check?: () => Promise<T>): Promise<T | undefined> {
    return this.write([imageId, ...digests], [imageId], check);
  }

  private async write<T>(digests: Iterable<Digest>, images: Digest[], check?: () => Promise<T>): Promise<T | undefined> {
    if (this.released) throw new Error('lease already released');
    const fresh = [...digests].filter((d) => !this.digests.has(d));
    const freshImages = images.filter((d) => !this.images.has(d));
    if (fresh.length === 0 && freshImages.length === 0 && !check) return undefined;
    return withLock(lockOf(this.root), async () => {
      if (fresh.length || freshImages.length) {
        for (const d of fresh) this.digests.add(d);
        for (const d of freshImages) this.images.add(d);
        const record: LeaseRecord = {
          purpose: this.purpose, created: new Date().toISOString(), digests: [...this.digests], ...(this.images.size ? { images: [...this.images] } : {}),
        };
        // Whole (renamed into place) but not synced: a lease holds only while its process
        // lives, and none outlives a crash of the machine, so a build pays no fsync for it.
        // Written synchronously, and the folder made only when missing: a few system calls on
        // `run`'s start path, no trips through libuv's pool (lock.ts).
        const write = () => atomicWriteSync(this.file, `${JSON.stringify(record)}\n`, { durable: false });
        try {
          write();
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          mkdirSync(leasesDir(this.root), { recursive: true });
          write();
        }
      }
      return check ? check() : undefined;
    });
  }

  /** Drops the lease (what it held goes to the next collection if nothing else holds it). */
  async release(): Promise<void> {
    this.released = true;
    rmSync(this.file, { force: true });
  }
}

/** What live owners' leases hold: every digest, and the images they use as containers do (use()). */
export interface LeasedSet {
  digests: Set<Digest>;
  images: Set<Digest>;
}

/**
 * What every live owner's lease holds. Leases of owners that are gone are removed (their owner
 * can no longer release them); a lease file that cannot be read is counted as nothing only
 * when its owner is gone, otherwise it is being written and read again later.
 */
export async function readLeases(root: string): Promise<LeasedSet> {
  const out: LeasedSet = { digests: new Set(), images: new Set() };
  const dir = leasesDir(root);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.endsWith('.json')) continue; // an atomic write's temp file
    const owner = parseOwner(name);
    const file = path.join(dir, name);
    if (!owner || ownerGone(owner)) {
      await fs.rm(file, { force: true });
      continue;
    }
    const record = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as LeaseRecord, () => undefined);
    for (const d of record?.digests ?? []) if (typeof d === 'string') out.digests.add(d);
    for (const d of record?.images ?? []) if (typeof d === 'string') out.images.add(d);
  }
  return out;
}

/** Every digest held by a live owner's lease (readLeases). */
export async function leasedDigests(root: string): Promise<Set<Digest>> {
  return (await readLeases(root)).digests;
}

/** The images live owners' leases use as containers do (use()): rmi and prune keep them. */
export async function leasedImages(root: string): Promise<Set<Digest>> {
  return (await readLeases(root)).images;
}
