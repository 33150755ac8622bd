import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stateRoot } from './paths.js';

test('stateRoot prefers $STRATA_ROOT, resolved to an absolute path', () => {
  assert.equal(stateRoot({ STRATA_ROOT: 'rel/dir' }), `${process.cwd()}/rel/dir`);
});

test('stateRoot falls back to /var/lib/strata as root, else XDG_DATA_HOME', () => {
  const expected = process.getuid?.() === 0 ? '/var/lib/strata' : '/xdg/strata';
  assert.equal(stateRoot({ XDG_DATA_HOME: '/xdg' }), expected);
});
