// `stats` rows: Docker's fields, the default table and --format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerRecord } from '../../store/index.js';
import { STATS_HEADINGS, STATS_TABLE, statsRow } from './stats.js';
import { formatRows, resolveFormat } from './template.js';

const record = { Id: 'f'.repeat(64), Name: '/web' } as ContainerRecord;
const stats = { cpuPercent: 1.234, memUsage: 2 * 1024 * 1024, memLimit: 64 * 1024 * 1024, netRx: 1500, netTx: 0, blockRead: 0, blockWrite: 4096, pids: 3 };

test('stats rows: the default table, aligned as Docker, and --format fields', () => {
  const row = statsRow(record, stats, { noTrunc: false, ref: 'web' });
  assert.equal(formatRows(resolveFormat(undefined, STATS_TABLE), [row], STATS_HEADINGS),
    'CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O      BLOCK I/O      PIDS\n'
    + 'ffffffffffff   web       1.23%     2MiB / 64MiB        3.13%     1.5kB / 0B   0B / 4.096kB   3\n');
  assert.equal(formatRows('{{.Container}}: {{.MemUsage}} {{.PIDs}}', [row], STATS_HEADINGS), 'web: 2MiB / 64MiB 3\n');
  assert.equal(JSON.parse(formatRows(resolveFormat('json', STATS_TABLE), [row], STATS_HEADINGS)).CPUPerc, '1.23%');
  const stopped = statsRow(record, undefined, { noTrunc: true });
  assert.deepEqual([stopped.ID, stopped.Container, stopped.MemUsage, stopped.PIDs], ['f'.repeat(64), 'f'.repeat(64), '0B / 0B', '0']);
});
