import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CacheEntry } from './build-cache.js';
import { selectPrunable } from './cache-prune.js';

const hour = 3600e3;
const now = Date.parse('2024-06-01T00:00:00Z');
const entry = (key: string, size: number, hoursAgo: number, layer?: string): CacheEntry => ({
  key, slot: '', stage: '0', step: key, size, layer, hits: 0,
  created: new Date(now - hoursAgo * hour).toISOString(), lastUsed: new Date(now - hoursAgo * hour).toISOString(),
});

describe('cache prune selection', () => {
  const entries = [entry('old', 100, 48, 'sha256:a'), entry('mid', 100, 10, 'sha256:b'), entry('new', 100, 1, 'sha256:c'), entry('img', 100, 72, 'sha256:i')];
  const imageLayers = new Set(['sha256:i']);

  it('keeps layers images use unless --all', () => {
    assert.deepEqual(selectPrunable(entries, { all: false, imageLayers, now }).map((e) => e.key), ['old', 'mid', 'new']);
    assert.deepEqual(selectPrunable(entries, { all: true, imageLayers, now }).map((e) => e.key), ['old', 'mid', 'new', 'img']);
  });

  it('honours until=24h', () => {
    assert.deepEqual(selectPrunable(entries, { all: true, until: 24 * hour, imageLayers, now }).map((e) => e.key), ['old', 'img']);
  });

  it('frees least recently used first down to --keep-storage', () => {
    assert.deepEqual(selectPrunable(entries, { all: true, keepStorage: 200, imageLayers, now }).map((e) => e.key), ['img', 'old']);
    assert.deepEqual(selectPrunable(entries, { all: true, keepStorage: 1e9, imageLayers, now }), []);
  });
});
