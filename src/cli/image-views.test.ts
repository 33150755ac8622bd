// `docker images REPO[:TAG]` and `--filter reference=`: Docker's FamiliarMatch over the rows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEntry } from '../engine/index.js';
import { historyRows, matchesReference, type ImageRow } from './image-views.js';

const row = (Repository: string, Tag: string) => ({ Repository, Tag }) as ImageRow;
const rows = [row('t1', 'latest'), row('t2', 'v1'), row('busybox', 'latest'), row('me/app', 'dev'), row('<none>', '<none>')];
const names = (pattern: string) => rows.filter((r) => matchesReference(r, pattern)).map((r) => `${r.Repository}:${r.Tag}`);

describe('images reference filter', () => {
  it('a glob selects only the names it matches', () => {
    assert.deepEqual(names('t*'), ['t1:latest', 't2:v1']);
    assert.deepEqual(names('busy?ox'), ['busybox:latest']);
    assert.deepEqual(names('nothing*'), []);
  });

  it('matches "name:tag" as well as the name, a tag glob included', () => {
    assert.deepEqual(names('*:latest'), ['t1:latest', 'busybox:latest']);
    assert.deepEqual(names('t*:v*'), ['t2:v1']);
    assert.deepEqual(names('t1:v1'), []);
  });

  it('a "*" does not cross "/" (path.Match), a full name matches its familiar row', () => {
    assert.deepEqual(names('*'), ['t1:latest', 't2:v1', 'busybox:latest']);
    assert.deepEqual(names('*/*'), ['me/app:dev']);
    assert.deepEqual(names('docker.io/library/busybox:latest'), ['busybox:latest']);
    assert.deepEqual(names('docker.io/me/app'), ['me/app:dev']);
  });

  it('a bad pattern matches nothing instead of failing', () => {
    assert.deepEqual(names('t[1'), []);
  });
});

describe('history rows', () => {
  const entry = { id: '<missing>', created: '2024-01-02T03:04:05.678Z', createdBy: 'RUN a\tb', size: 2132480, comment: 'c' } as HistoryEntry;
  it('CreatedAt is RFC 3339 to the second; -H=false gives it as CREATED and the size in bytes', () => {
    const now = Date.parse('2024-01-02T05:04:05Z');
    const [human] = historyRows([entry], { now });
    assert.deepEqual([human!.CreatedAt, human!.CreatedSince, human!.Size, human!.CreatedBy], ['2024-01-02T03:04:05Z', '2 hours ago', '2.13MB', 'RUN a b']);
    const [raw] = historyRows([entry], { human: false, now });
    assert.deepEqual([raw!.CreatedAt, raw!.CreatedSince, raw!.Size], ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05Z', '2132480']);
  });
});
