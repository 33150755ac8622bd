// What `images` and `history` show, as Docker's CLI: the history rows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryEntry } from '../engine/index.js';
import { historyRows } from './image-views.js';

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
