// `stats` rows in Docker's shape: its --format fields and headings, its default table.
import { bytesSize, humanSize, type ContainerStats } from '../../runtime/index.js';
import type { ContainerRecord } from '../../store/index.js';

export interface StatsRow {
  /** What the user named (or the short ID), Docker's .Container. */
  Container: string;
  ID: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

export const STATS_HEADINGS: Record<keyof StatsRow, string> = {
  Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %',
  NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};

export const STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

/** A stopped container (no stats) shows zeros, as Docker's `stats -a`. */
export function statsRow(record: ContainerRecord, s: ContainerStats | undefined, o: { noTrunc: boolean; ref?: string }): StatsRow {
  const id = o.noTrunc ? record.Id : record.Id.slice(0, 12);
  const row = { Container: o.ref ?? id, ID: id, Name: record.Name.replace(/^\//, '') };
  if (!s) return { ...row, CPUPerc: '0.00%', MemUsage: '0B / 0B', MemPerc: '0.00%', NetIO: '0B / 0B', BlockIO: '0B / 0B', PIDs: '0' };
  return {
    ...row,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    MemUsage: `${bytesSize(s.memUsage)} / ${bytesSize(s.memLimit)}`,
    MemPerc: `${(s.memLimit ? (s.memUsage / s.memLimit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`,
    BlockIO: `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`,
    PIDs: String(s.pids),
  };
}
