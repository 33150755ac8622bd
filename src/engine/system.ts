// The System service: what a state root holds and uses (`system df`, `info`, `version`) and
// `system prune`, which removes stopped containers, unused networks, dangling (or unused)
// images, the build cache no image uses (all of it with `all`) and, when asked, anonymous
// volumes — all freed through the store's one collector (src/store/gc.ts).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import {
  currentState, parseSince, runcRootOf, type ContainerContext,
} from '../runtime/index.js';
import { ContainerStore, STORAGE_DRIVER, diskUsage, openStore, stateRoot, type CacheEntry, type ContainerRecord, type ContainerState, type Image, type Store } from '../store/index.js';
import { StrataError } from '../errors.js';
import { STRATA_VERSION } from '../version.js';
import { LocalBuildCache } from './build-cache.js';
import { Networks } from './networks.js';
import { checkSystem, type CheckReport } from './system-check.js';
import { Containers } from './containers.js';
import { Images, type ImageDeleteItem } from './images.js';
import { Volumes } from './volumes.js';

export type { CheckReport, Finding, FindingKind } from './system-check.js';

export { STRATA_VERSION } from '../version.js';

/** One row of `system df`. */
export interface UsageRow {
  total: number;
  /** Images a container uses, running containers, volumes a container mounts. */
  active: number;
  size: number;
  reclaimable: number;
}

export interface SystemUsage {
  images: UsageRow;
  containers: UsageRow;
  volumes: UsageRow;
  buildCache: UsageRow;
  /** What the rows sum up, one item each (`system df -v`). */
  items: UsageItems;
}

/** `system df -v`'s tables, as Docker's daemon reports them (/system/df). */
export interface UsageItems {
  /** Size: its layers; sharedSize: those of its layers another image has too; containers: how many use it. */
  images: Array<{ image: Image; size: number; sharedSize: number; containers: number }>;
  /** Size: its writable layer. */
  containers: Array<{ record: ContainerRecord; state: ContainerState; size: number }>;
  /** Links: how many containers mount it. */
  volumes: Array<{ name: string; links: number; size: number }>;
  /** Shared: its layer is an image's too. Most recently used first. */
  buildCache: Array<{ entry: CacheEntry; shared: boolean }>;
}

export interface SystemInfo {
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  DockerRootDir: string;
  ServerVersion: string;
  DefaultRuntime: string;
  RuncVersion: string;
  CgroupVersion: string;
  KernelVersion: string;
  OperatingSystem: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
}

export interface SystemPruneResult {
  containers: string[];
  networks: string[];
  images: ImageDeleteItem[];
  cacheEntries: string[];
  volumes: string[];
  reclaimed: number;
}

/** The first line of `runc --version`'s version ("1.1.5+ds1"), or "unknown". */
export function runcVersion(): string {
  const r = spawnSync('runc', ['--version'], { encoding: 'utf8' });
  return /runc version (\S+)/.exec(r.stdout ?? '')?.[1] ?? 'unknown';
}

function osName(): string {
  const text = fs.existsSync('/etc/os-release') ? fs.readFileSync('/etc/os-release', 'utf8') : '';
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? os.type();
}

export class System {
  readonly stateRoot: string;

  constructor(o: { stateRoot?: string } = {}) {
    this.stateRoot = o.stateRoot ?? stateRoot();
  }

  private async context(): Promise<ContainerContext & { images: Store }> {
    const root = this.stateRoot;
    return { root, images: await openStore(root), containers: new ContainerStore(root), runcRoot: runcRootOf(root) };
  }

  /** `system check`: the store verified against itself, with what killed commands left (system-check.ts); `repair` mends what it can. */
  check(options: { full?: boolean; repair?: boolean } = {}): Promise<CheckReport> {
    return checkSystem(this.stateRoot, options);
  }

  /** `system df`: images (layers counted once), containers (their writable layers), volumes, build cache. */
  async usage(): Promise<SystemUsage> {
    const ctx = await this.context();
    const records = await ctx.containers.list();
    const states = new Map(records.map((r) => [r.Id, currentState(ctx, r)]));
    const running = records.filter((r) => states.get(r.Id)!.Running);
    const usedImages = new Set(records.map((r) => r.Image));
    const images = await ctx.images.listImages();
    const layerSize = new Map<string, number>();
    const activeLayers = new Set<string>();
    // How many images have each layer: those of more than one are their shared size.
    const layerImages = new Map<string, number>();
    for (const img of images) {
      img.config.rootfs.diff_ids.forEach((d, i) => {
        layerSize.set(d, img.manifest.layers[i]?.size ?? 0);
        if (usedImages.has(img.id)) activeLayers.add(d);
      });
      for (const d of new Set(img.config.rootfs.diff_ids)) layerImages.set(d, (layerImages.get(d) ?? 0) + 1);
    }
    const sum = (ds: Iterable<[string, number]>) => [...ds].reduce((n, [, s]) => n + s, 0);
    const imagesSize = sum(layerSize);
    const upper = (id: string) => diskUsage(ctx.containers.paths(id).upper);
    const containerSizes = records.map((r) => ({ r, size: upper(r.Id) }));
    const runningIds = new Set(running.map((r) => r.Id));
    const volumes = new Volumes({ stateRoot: this.stateRoot });
    const users = await volumes.users();
    const vols = volumes.list().map((v) => ({ v, size: diskUsage(v.Mountpoint), used: (users.get(v.Name) ?? []).length > 0 }));
    const entries = await new LocalBuildCache(this.stateRoot).list();
    const cacheLayers = new Map<string, number>();
    for (const e of entries) if (e.layer) cacheLayers.set(e.layer, e.size);
    const imageLayers = new Set(layerSize.keys());
    const items: UsageItems = {
      images: images.map((image) => ({
        image,
        size: image.size,
        sharedSize: sum([...new Set(image.config.rootfs.diff_ids)].filter((d) => layerImages.get(d)! > 1).map((d) => [d, layerSize.get(d) ?? 0])),
        containers: records.filter((r) => r.Image === image.id).length,
      })),
      containers: containerSizes.map(({ r, size }) => ({ record: r, state: states.get(r.Id)!, size })),
      volumes: vols.map(({ v, size }) => ({ name: v.Name, links: (users.get(v.Name) ?? []).length, size })),
      buildCache: entries.map((entry) => ({ entry, shared: entry.layer !== undefined && imageLayers.has(entry.layer) })),
    };
    return {
      items,
      images: {
        total: images.length, active: images.filter((i) => usedImages.has(i.id)).length,
        size: imagesSize, reclaimable: sum([...layerSize].filter(([d]) => !activeLayers.has(d))),
      },
      containers: {
        total: records.length, active: running.length,
        size: containerSizes.reduce((n, c) => n + c.size, 0), reclaimable: containerSizes.filter((c) => !runningIds.has(c.r.Id)).reduce((n, c) => n + c.size, 0),
      },
      volumes: {
        total: vols.length, active: vols.filter((v) => v.used).length,
        size: vols.reduce((n, v) => n + v.size, 0), reclaimable: vols.filter((v) => !v.used).reduce((n, v) => n + v.size, 0),
      },
      buildCache: {
        total: entries.length, active: 0,
        size: sum(cacheLayers), reclaimable: sum([...cacheLayers].filter(([d]) => !imageLayers.has(d))),
      },
    };
  }

  /** `info`: the state root's contents and the host it runs on, with Docker's field names. */
  async info(): Promise<SystemInfo> {
    const ctx = await this.context();
    const states = (await ctx.containers.list()).map((r) => currentState(ctx, r));
    const paused = states.filter((s) => s.Paused).length;
    const runningCount = states.filter((s) => s.Running && !s.Paused).length;
    return {
      Containers: states.length,
      ContainersRunning: runningCount,
      ContainersPaused: paused,
      ContainersStopped: states.length - runningCount - paused,
      Images: (await ctx.images.listImages()).length,
      Driver: STORAGE_DRIVER,
      DockerRootDir: this.stateRoot,
      ServerVersion: STRATA_VERSION,
      DefaultRuntime: 'runc',
      RuncVersion: runcVersion(),
      CgroupVersion: fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
      KernelVersion: os.release(),
      OperatingSystem: osName(),
      OSType: 'linux',
      Architecture: os.machine(),
      NCPU: os.availableParallelism?.() ?? os.cpus().length,
      MemTotal: os.totalmem(),
    };
  }

  /**
   * `system prune`: stopped containers, unused networks, dangling images (every unused one with
   * `all`), build cache entries no image uses (every entry with `all`), and with `volumes` the
   * anonymous volumes no container uses. Then one collection frees what nothing holds.
   */
  async prune(options: { all?: boolean; volumes?: boolean; filters?: string[] } = {}): Promise<SystemPruneResult> {
    const filters = options.filters ?? [];
    const cacheFilter = parseSystemPruneFilters(filters, options.volumes ?? false);
    const ctx = await this.context();
    // Stopped containers go by the Containers service's own prune: one place for its rules.
    const pruned = await new Containers(this.stateRoot, ctx.images).prune({ filters });
    const containers = pruned.removed;
    let reclaimed = pruned.reclaimed;
    const networks = (await new Networks({ stateRoot: this.stateRoot }).prune(filters)).map((n) => n.Name);
    const images = await new Images({ store: ctx.images }).prune({ all: !!options.all, filters });
    reclaimed += images.reclaimed;
    const cache = cacheFilter.none ? { reclaimed: 0, removed: [] } : await new LocalBuildCache(this.stateRoot).prune({ all: !!options.all, until: cacheFilter.until });
    reclaimed += cache.reclaimed;
    const volumes = options.volumes ? await new Volumes({ stateRoot: this.stateRoot }).prune({ filters }) : { deleted: [], reclaimed: 0 };
    reclaimed += volumes.reclaimed;
    return { containers, networks, images: images.items, cacheEntries: cache.removed.map((e) => e.key), volumes: volumes.deleted, reclaimed };
  }
}

/**
 * `system prune --filter`: Docker's keys for it (until, label, label!), checked before anything
 * is removed, and what they mean for the build cache: its entries carry no labels, so
 * `label=...` leaves every entry (none has it) and `label!=...` none; `until` is the age of
 * their last use. `until` with `--volumes` is refused as Docker's CLI refuses it (a volume has
 * no such filter). Returns the build cache's part (`none`: no entry can match); throws on a
 * filter system prune does not take.
 */
export function parseSystemPruneFilters(filters: string[], volumes: boolean): { none: boolean; until?: number } {
  let none = false;
  let until: number | undefined;
  for (const f of filters) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    if (key === 'label') none = true;
    else if (key === 'until') {
      if (volumes) throw new StrataError('The "until" filter is not supported with "--volumes"');
      const at = parseSince(value, undefined, 'until');
      until = Math.max(0, Date.now() - Number(at / 1_000_000n));
    } else if (key !== 'label!') throw new StrataError(`invalid filter "${key}": system prune supports until, label, label!`);
  }
  return { none, until };
}
