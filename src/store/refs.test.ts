import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, normalizeTag, parseReference, formatReference } from './refs.js';

test('short names normalise like Docker', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['user/app', 'docker.io/user/app:latest'],
    ['localhost/x', 'localhost/x:latest'],
    ['localhost:5000/a/b:v1', 'localhost:5000/a/b:v1'],
    ['quay.io/org/img:tag', 'quay.io/org/img:tag'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
  ];
  for (const [input, full] of cases) assert.equal(normalizeTag(input), full, input);
});

test('digest references keep the digest and get no default tag', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  const r = parseReference(`busybox@${d}`);
  assert.equal(r.tag, undefined);
  assert.equal(formatReference(r), `docker.io/library/busybox@${d}`);
  assert.throws(() => normalizeTag(`busybox@${d}`), /digest/);
});

test('invalid references are refused', () => {
  for (const bad of ['', 'UPPER', 'a/B', 'x:', 'x:-bad', 'a//b', 'x@sha256:123', '-x', 'a b']) {
    assert.throws(() => parseReference(bad), /invalid reference format/, bad);
  }
});

test('familiar names drop docker.io/library', () => {
  assert.equal(familiarName('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarName('docker.io/user/app:1'), 'user/app:1');
  assert.equal(familiarName('localhost/x:latest'), 'localhost/x:latest');
});
