import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareBytes, compareNatural, naturalLess } from './sort-order.js';

describe('sort orders as Docker', () => {
  it('compareBytes is Go\'s bytewise order, not a locale\'s', () => {
    assert.deepEqual(['b', 'a', 'B', '_x', 'A1', 'a10', 'a9'].sort(compareBytes), ['A1', 'B', '_x', 'a', 'a10', 'a9', 'b']);
    assert.equal(compareBytes('same', 'same'), 0);
    assert.equal(compareBytes('ab', 'abc'), -1);
    assert.equal(compareBytes('abc', 'ab'), 1);
    // UTF-8 order: U+1F600 (a surrogate pair in UTF-16) after U+FF5E.
    assert.equal(compareBytes('\u{1F600}', '\uFF5E'), 1);
    assert.equal(compareBytes('\uFF5E', '\u{1F600}'), -1);
    assert.equal(compareBytes('é', 'z'), 1);
  });

  it('naturalLess is docker/cli\'s sortorder.NaturalLess', () => {
    const less: [string, string][] = [
      ['abc2', 'abc12'], ['2', '02'], ['0', '00'], ['1', 'a'], ['a', 'ab'], ['abc5', 'abc5a'], ['abc5a', 'abc05'],
      ['a1b2', 'a1b10'], ['a1b10', 'a01b2'], ['x2-y08', 'x8-y8'], ['B1', 'a'], ['', 'a'],
    ];
    for (const [a, b] of less) {
      assert.ok(naturalLess(a, b), `${a} < ${b}`);
      assert.ok(!naturalLess(b, a), `not ${b} < ${a}`);
    }
    assert.ok(!naturalLess('same9', 'same9'));
    assert.deepEqual(['net10', 'net2', 'bridge', 'Net1', 'host', 'net02', 'none'].sort(compareNatural), ['Net1', 'bridge', 'host', 'net2', 'net02', 'net10', 'none']);
  });
});
