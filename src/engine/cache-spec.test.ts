// --cache-from / --cache-to values, BuildKit's syntax, and what is refused.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { parseCacheSpec } from './cache-spec.js';
import { entryPointers } from './shared-cache.js';

test('registry and local specs, in both directions', () => {
  assert.deepEqual(parseCacheSpec('type=registry,ref=reg:5000/app-cache', 'from'), { type: 'registry', ref: 'reg:5000/app-cache' });
  assert.deepEqual(parseCacheSpec('type=registry,ref=reg/c,mode=max', 'to'), { type: 'registry', ref: 'reg/c', mode: 'max' });
  assert.deepEqual(parseCacheSpec('ref=reg/c', 'from'), { type: 'registry', ref: 'reg/c' });
  assert.deepEqual(parseCacheSpec('reg/app:1', 'from'), { type: 'registry', ref: 'reg/app:1' });
  assert.deepEqual(parseCacheSpec('type=registry,ref=reg/app:buildcache,mode=max', 'to'), { type: 'registry', ref: 'reg/app:buildcache', mode: 'max' });
  assert.deepEqual(parseCacheSpec(`ref=reg/app@sha256:${'a'.repeat(64)}`, 'from'), { type: 'registry', ref: `reg/app@sha256:${'a'.repeat(64)}` });
  assert.deepEqual(parseCacheSpec('type=local,src=cache', 'from'), { type: 'local', dir: path.resolve('cache') });
  assert.deepEqual(parseCacheSpec('type=local,dest=/c,mode=min', 'to'), { type: 'local', dir: '/c', mode: 'min' });
});

test('bad specs name the flag and the problem', () => {
  const bad: [string, 'from' | 'to', RegExp][] = [
    ['type=gha', 'to', /invalid --cache-to "type=gha": unsupported type "gha"/],
    ['type=local,dest=/x', 'from', /unknown field "dest" for type=local/],
    ['type=local,src=/x', 'to', /unknown field "src"/],
    ['type=local', 'to', /type=local needs dest=DIR/],
    ['type=registry', 'from', /needs ref=REGISTRY\/REPOSITORY/],
    ['type=registry,ref=r/c,mode=fast', 'to', /mode must be min or max/],
    ['type=registry,ref=r/c,mode=max', 'from', /mode applies to --cache-to only/],
    ['type=registry,,ref=r/c', 'to', /expected key=value/],
    ['', 'from', /empty/],
    [`type=registry,ref=r/c@sha256:${'a'.repeat(64)}`, 'to', /a digest names fixed content, it cannot be exported to/],
    [`r/c@sha256:${'a'.repeat(64)}`, 'to', /a digest names fixed content/],
  ];
  for (const [text, dir, re] of bad) assert.throws(() => parseCacheSpec(text, dir), re, text);
});

test('pointer tags: the step on its parent first, then the kind on the parent, then the step anywhere', () => {
  const inputs = { type: 'COPY', parent: 'image:sha256:' + 'a'.repeat(64), instruction: 'COPY . /' };
  const tags = entryPointers(inputs, 'b'.repeat(64));
  assert.equal(tags.length, 3);
  assert.deepEqual(tags.map((t) => t.slice(0, 2)), ['p-', 'k-', 's-']);
  assert.ok(tags.every((t) => /^[a-z]-[a-f0-9]{64}$/.test(t)), 'valid tags, never a bare key');
  assert.deepEqual(entryPointers({ ...inputs, type: 'RUN' }, undefined).map((t) => t.slice(0, 2)), ['k-']);
  assert.notEqual(entryPointers({ ...inputs, type: 'RUN' }, undefined)[0], tags[1]);
});
