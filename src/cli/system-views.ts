// What `system df`, `info` and `version` print, in Docker's (and podman's) shapes.
import os from 'node:os';
import type { SystemInfo, SystemUsage, UsageRow } from '../engine/index.js';
import { humanSize } from './format/human.js';

export interface DfRow {
  Type: string;
  TotalCount: string;
  Active: string;
  Size: string;
  Reclaimable: string;
}

export const DF_HEADINGS: Record<string, string> = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
export const DF_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';

/** Docker's rows: the reclaimable share in percent, except for the build cache. */
export function dfRows(u: SystemUsage): DfRow[] {
  const row = (type: string, r: UsageRow, percent: boolean): DfRow => ({
    Type: type,
    TotalCount: String(r.total),
    Active: String(r.active),
    Size: humanSize(r.size),
    Reclaimable: percent && r.size > 0 ? `${humanSize(r.reclaimable)} (${Math.floor((100 * r.reclaimable) / r.size)}%)` : humanSize(r.reclaimable),
  });
  return [row('Images', u.images, true), row('Containers', u.containers, true), row('Local Volumes', u.volumes, true), row('Build Cache', u.buildCache, false)];
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
