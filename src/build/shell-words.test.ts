import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processWord } from './shell-words.js';

const vars: Record<string, string> = { A: 'apple', E: '', P: 'path/to/file.tar.gz' };
const w = (s: string) => processWord(s, (n) => vars[n]).value;

describe('processWord', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['$A', 'apple'],
    ['${A}s', 'apples'],
    ['"$A b"', 'apple b'],
    ["'$A b'", '$A b'],
    ['\\$A', '$A'],
    ['"a\\"b"', 'a"b'],
    ['"a\\nb"', 'a\\nb'],
    ['${MISSING:-dflt}', 'dflt'],
    ['${E:-dflt}', 'dflt'],
    ['${E-dflt}', ''],
    ['${A:+set}', 'set'],
    ['${MISSING+set}', ''],
    ['${P#*/}', 'to/file.tar.gz'],
    ['${P##*/}', 'file.tar.gz'],
    ['${P%.*}', 'path/to/file.tar'],
    ['${P%%.*}', 'path/to/file'],
    ['${A/p/P}', 'aPple'],
    ['${A//p/P}', 'aPPle'],
    ['$', '$'],
    ['a$1b', 'ab'],
  ];
  for (const [input, want] of cases) it(`${input} -> ${want}`, () => assert.equal(w(input), want));

  it('reports the variables it used', () => {
    assert.deepEqual(processWord('$A-${B:-x}', (n) => vars[n]).used, ['A', 'B']);
  });

  it('fails on unterminated quotes and ${VAR:?}', () => {
    assert.throws(() => w('"abc'), /matching double-quote/);
    assert.throws(() => w("'abc"), /matching single-quote/);
    assert.throws(() => w('${MISSING:?must be set}'), /MISSING: must be set/);
  });
});
