import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChallenges } from './challenge.js';

const vectors: [string | string[], ReturnType<typeof parseChallenges>][] = [
  ['Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
    [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:samalba/my-app:pull,push' } }]],
  ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
  // Two challenges in one header; the second's scheme follows a comma.
  ['Basic realm="a", Bearer realm="https://t/x",service=reg', [
    { scheme: 'basic', params: { realm: 'a' } },
    { scheme: 'bearer', params: { realm: 'https://t/x', service: 'reg' } }]],
  // Repeated headers.
  [['Basic realm="a"', 'Bearer realm="b"'], [{ scheme: 'basic', params: { realm: 'a' } }, { scheme: 'bearer', params: { realm: 'b' } }]],
  // Escapes, spaces around '=', case of scheme and names, an empty value.
  ['BEARER Realm = "a\\"b\\\\c" , Service="",error="insufficient_scope"', [{ scheme: 'bearer', params: { realm: 'a"b\\c', service: '', error: 'insufficient_scope' } }]],
  // Several scopes in one value, separated by spaces (distribution's multi-scope form).
  ['Bearer realm="r",scope="repository:a:pull repository:b:pull,push"', [{ scheme: 'bearer', params: { realm: 'r', scope: 'repository:a:pull repository:b:pull,push' } }]],
  // token68
  ['Negotiate YWJj==, Basic realm=x', [{ scheme: 'negotiate', params: { token68: 'YWJj==' } }, { scheme: 'basic', params: { realm: 'x' } }]],
  // A scheme without parameters.
  ['Bearer', [{ scheme: 'bearer', params: {} }]],
  // Unterminated quote: the broken parameter is dropped.
  ['Bearer realm="https://x', [{ scheme: 'bearer', params: {} }]],
  ['', []],
];

test('WWW-Authenticate challenges parse as registries send them', () => {
  for (const [header, want] of vectors) assert.deepEqual(parseChallenges(header), want, JSON.stringify(header));
});

test('no header, no challenges', () => {
  assert.deepEqual(parseChallenges(undefined), []);
  assert.deepEqual(parseChallenges(null), []);
});
