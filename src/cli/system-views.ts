// What `system df`, `info` and `version` print, in Docker's (and podman's) shapes.
import os from 'node:os';
import type { SystemInfo, SystemUsage, UsageItems, UsageRow } from '../engine/index.js';
import { familiarRepository, parseReference } from '../store/index.js';
import { PS_HEADINGS, psRow } from './format/containers.js';
import { humanSize, shortId, timeAgo } from './format/human.js';
import { formatRows, parseTemplate } from './format/template.js';

export interface DfRow {
  Type: string;
  TotalCount: string;
  Active: string;
  Size: string;
  Reclaimable: string;
}

export const DF_HEADINGS: Record<string, string> = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
export const DF_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';

/** Docker's rows: the reclaimable share in percent, except for the build cache; sizes with go-units' HumanSize (4 digits). */
export function dfRows(u: SystemUsage): DfRow[] {
  const row = (type: string, r: UsageRow, percent: boolean): DfRow => ({
    Type: type,
    TotalCount: String(r.total),
    Active: String(r.active),
    Size: humanSize(r.size, 4),
    Reclaimable: percent && r.size > 0 ? `${humanSize(r.reclaimable, 4)} (${Math.floor((100 * r.reclaimable) / r.size)}%)` : humanSize(r.reclaimable, 4),
  });
  return [row('Images', u.images, true), row('Containers', u.containers, true), row('Local Volumes', u.volumes, true), row('Build Cache', u.buildCache, false)];
}

const DF_IMAGES = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const DF_CONTAINERS = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const DF_VOLUMES = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const DF_CACHE = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';
const IMAGE_HEADINGS = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' };
const VOLUME_HEADINGS = { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' };
const CACHE_HEADINGS = { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' };

/** `system df -v`'s rows, with Docker's fields (docker/cli's disk usage contexts: their sizes' precisions too). */
export function dfVerboseRows(items: UsageItems, now = Date.now()) {
  return {
    // Newest first, as Docker's daemon lists them.
    Images: [...items.images].sort((a, b) => Date.parse(b.image.config.created ?? '0') - Date.parse(a.image.config.created ?? '0')).map(({ image, size, sharedSize, containers }) => {
      // Only the first name, as Docker's.
      const ref = [...image.names].sort().map((n) => parseReference(n, { defaultTag: false })).find((r) => r.tag !== undefined);
      return {
        Repository: ref ? familiarRepository(ref) : '<none>', Tag: ref?.tag ?? '<none>', ID: shortId(image.id), CreatedSince: timeAgo(image.config.created, now),
        Size: humanSize(size), SharedSize: humanSize(sharedSize, 4), UniqueSize: humanSize(size - sharedSize, 4), Containers: String(containers),
      };
    }),
    Containers: [...items.containers].sort((a, b) => Date.parse(b.record.Created) - Date.parse(a.record.Created)).map(({ record, state, size }) => ({ ...psRow(record, state, { noTrunc: false, now }), Size: humanSize(size) })),
    Volumes: items.volumes.map((v) => ({ Name: v.name, Links: String(v.links), Size: humanSize(v.size, 4) })),
    BuildCache: items.buildCache.map(({ entry, shared }) => ({
      ID: entry.key.slice(0, 12), CacheType: 'regular', Size: humanSize(entry.size), CreatedSince: timeAgo(entry.created, now),
      LastUsedSince: timeAgo(entry.lastUsed, now), UsageCount: String(entry.hits), Shared: String(shared),
    })),
  };
}

/** `system df -v`: one table each for images, containers, local volumes and the build cache (Docker's layout), or FORMAT over them all. */
export function dfVerboseText(u: SystemUsage, format?: string, now = Date.now()): string {
  const rows = dfVerboseRows(u.items, now);
  if (format && format !== 'table') return parseTemplate(format === 'json' ? '{{json .}}' : format).render(rows);
  return [
    'Images space usage:\n\n', formatRows(DF_IMAGES, rows.Images, IMAGE_HEADINGS),
    '\nContainers space usage:\n\n', formatRows(DF_CONTAINERS, rows.Containers, PS_HEADINGS),
    '\nLocal Volumes space usage:\n\n', formatRows(DF_VOLUMES, rows.Volumes, VOLUME_HEADINGS),
    `\nBuild cache usage: ${humanSize(u.buildCache.size, 4)}\n\n`, formatRows(DF_CACHE, rows.BuildCache, CACHE_HEADINGS),
  ].join('');
}

/** `info` as text (Docker's layout, for a daemonless engine). */
export function infoText(i: SystemInfo): string {
  const mem = `${(i.MemTotal / 1024 ** 3).toFixed(2)}GiB`;
  return [
    'Client:',
    ` Version:    ${i.ServerVersion}`,
    ' Context:    daemonless',
    '',
    'Server:',
    ` Containers: ${i.Containers}`,
    `  Running: ${i.ContainersRunning}`,
    `  Paused: ${i.ContainersPaused}`,
    `  Stopped: ${i.ContainersStopped}`,
    ` Images: ${i.Images}`,
    ` Server Version: ${i.ServerVersion}`,
    ` Storage Driver: ${i.Driver}`,
    ` Cgroup Version: ${i.CgroupVersion}`,
    ` Runtimes: ${i.DefaultRuntime}`,
    ` Default Runtime: ${i.DefaultRuntime}`,
    ` runc version: ${i.RuncVersion}`,
    ` Kernel Version: ${i.KernelVersion}`,
    ` Operating System: ${i.OperatingSystem}`,
    ` OSType: ${i.OSType}`,
    ` Architecture: ${i.Architecture}`,
    ` CPUs: ${i.NCPU}`,
    ` Total Memory: ${mem}`,
    ` Strata Root Dir: ${i.DockerRootDir}`,
    '',
  ].join('\n');
}

export interface VersionInfo {
  Client: { Version: string; NodeVersion: string; RuncVersion: string; Os: string; Arch: string };
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function versionInfo(version: string, runc: string): VersionInfo {
  return { Client: { Version: version, NodeVersion: process.version, RuncVersion: runc, Os: os.platform(), Arch: GOARCH[process.arch] ?? process.arch } };
}

/** `version` as text (podman's layout: there is no server). */
export function versionText(v: VersionInfo): string {
  const c = v.Client;
  return [`Client:       strata`, `Version:      ${c.Version}`, `Node Version: ${c.NodeVersion}`, `runc Version: ${c.RuncVersion}`, `OS/Arch:      ${c.Os}/${c.Arch}`, ''].join('\n');
}
