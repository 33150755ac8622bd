import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { distinctLayers } from './union.js';

describe('distinctLayers', () => {
  it('drops a repeated layer, keeping its topmost place (overlayfs refuses a lowerdir twice)', () => {
    assert.deepEqual(distinctLayers(['/l/base', '/l/empty', '/l/app', '/l/empty', '/l/top']), ['/l/base', '/l/app', '/l/empty', '/l/top']);
    assert.deepEqual(distinctLayers(['/l/a', '/l/b']), ['/l/a', '/l/b']);
    assert.deepEqual(distinctLayers([]), []);
  });
});
