// The fast ustar encoder must give exactly node-tar's bytes (layer digests depend on them),
// and step aside whenever node-tar would need a PAX record.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { prng, type Random } from '../../testing/prng.js';
import { encodeHeader, encodeHeaderGeneral, encodeSimpleHeader, type TarHeaderFields } from './writer.js';

const TYPES: TarHeaderFields['type'][] = ['file', 'link', 'symlink', 'dir', 'char', 'block', 'fifo'];

function pick<T>(r: Random, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

/** Numbers around the octal field limits, small ones and typical ones. */
function number(r: Random, max: number): number {
  return pick(r, [0, 1, 7, 8, 0o777, 1000, 65534, max - 1, max, max + 1, Math.floor(r() * max), Math.floor(r() * max * 4)]);
}

function name(r: Random): string {
  const alphabet = ['a', 'b', 'Z', '0', '.', '-', '_', ' ', '/', 'é', '中', '\\', '='];
  const len = pick(r, [1, 5, 20, 98, 99, 100, 101, 150, 160, 260]);
  let s = '';
  for (let i = 0; i < len; i++) s += r() < 0.97 ? alphabet[Math.floor(r() * 5)] : pick(r, alphabet);
  return s.replace(/\/+/g, '/');
}

function fields(r: Random): TarHeaderFields {
  const type = pick(r, TYPES);
  const f: TarHeaderFields = {
    path: name(r) + (type === 'dir' ? '/' : ''),
    type,
    mode: Math.floor(r() * 0o177777),
    uid: number(r, 0o7777777),
    gid: number(r, 0o7777777),
    mtime: number(r, 0o77777777777),
  };
  if (type === 'file') f.size = number(r, 0o77777777777);
  if (type === 'link' || type === 'symlink') f.linkpath = name(r);
  if (type === 'char' || type === 'block') {
    f.devmajor = number(r, 0o7777777);
    f.devminor = number(r, 0o7777777);
  }
  if (r() < 0.1) f.xattrs = new Map([['user.k', Buffer.from('v')]]);
  return f;
}

describe('tar header encoding', () => {
  it('gives node-tar\'s exact bytes for 5,000 random entries, fast path or not', () => {
    const r = prng(20261122);
    let fast = 0;
    for (let i = 0; i < 5000; i++) {
      const f = fields(r);
      const want = encodeHeaderGeneral(f);
      const got = encodeHeader(f);
      if (!got.equals(want)) assert.deepEqual(got, want, `case ${i}: ${JSON.stringify({ ...f, xattrs: f.xattrs?.size })}`);
      if (encodeSimpleHeader(f, Buffer.alloc(512))) fast++;
    }
    assert.ok(fast > 500, `the fast path took only ${fast} of 5000 cases`);
  });

  it('takes the fast path for a typical file, and leaves long, non-ASCII and xattr entries to node-tar', () => {
    const base: TarHeaderFields = { path: 'app/src/d005/f00005.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_790_000_000, size: 10_000 };
    assert.equal(encodeSimpleHeader(base, Buffer.alloc(512)), true);
    assert.equal(encodeSimpleHeader({ ...base, path: 'a'.repeat(100) }, Buffer.alloc(512)), false);
    assert.equal(encodeSimpleHeader({ ...base, path: 'café' }, Buffer.alloc(512)), false);
    assert.equal(encodeSimpleHeader({ ...base, uid: 0o10000000 }, Buffer.alloc(512)), false);
    assert.equal(encodeSimpleHeader({ ...base, xattrs: new Map([['user.a', Buffer.from('1')]]) }, Buffer.alloc(512)), false);
    assert.equal(encodeHeader({ ...base, path: 'a'.repeat(150) }).length > 512, true, 'a 150-byte name gets a PAX record');
  });
});
