import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSize, parseUntil } from './cache.js';

const hour = 3600e3;

describe('cache prune arguments', () => {
  it('parses sizes and durations', () => {
    assert.equal(parseSize('10GB'), 10e9);
    assert.equal(parseSize('512MiB'), 512 * 1024 ** 2);
    assert.equal(parseSize('1.5k'), 1500);
    assert.equal(parseUntil('2h30m'), 2.5 * hour);
    assert.throws(() => parseSize('lots'), /invalid size: "lots"/);
    assert.throws(() => parseUntil('soon'), /invalid duration: "soon"/);
  });
});
