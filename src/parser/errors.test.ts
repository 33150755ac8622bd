// ParseError: where it points, what it says, and that nothing else ever escapes parse().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, ParseError } from './index.js';
import { levenshtein, messages, suggest } from './errors.js';
import { KEYWORDS } from './keywords.js';

function errorOf(text: string): ParseError {
  try {
    parse(text);
  } catch (err) {
    assert.ok(err instanceof ParseError, `expected a ParseError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ParseError');
}

test('an unknown instruction is named, located and gets a suggestion when one is close', () => {
  const err = errorOf('FROM alpine\n\n  COPPY . /app\n');
  assert.equal(err.message, 'unknown instruction "COPPY" (did you mean COPY?)');
  assert.deepEqual([err.line, err.column], [3, 3]);
  assert.equal(errorOf('from a\nrunn x\n').message, 'unknown instruction "runn" (did you mean run?)');
  assert.equal(errorOf('FROM a\nEXPOSED 80\n').message, 'unknown instruction "EXPOSED" (did you mean EXPOSE?)');
  assert.equal(errorOf('FROM a\nFROBNICATE x\n').message, 'unknown instruction "FROBNICATE"');
});

test('suggestions follow BuildKit: edit distance below 3, in the case the user wrote', () => {
  assert.equal(levenshtein('kitten', 'sitting'), 3);
  assert.equal(suggest('WORKDI', KEYWORDS), 'WORKDIR');
  assert.equal(suggest('entrypont', KEYWORDS), 'entrypoint');
  assert.equal(suggest('Cmdd', KEYWORDS), 'CMD');
  assert.equal(suggest('XYZZY', KEYWORDS), undefined);
});

test('errors inside continued instructions point at the physical line and column', () => {
  // the bad JSON argument starts on line 3, after four spaces of indentation
  const err = errorOf('FROM a\nCMD \\\n    ["a", 1]\n');
  assert.equal(err.message, messages.notStringArray());
  assert.deepEqual([err.line, err.column, err.endLine], [3, 5, 3]);
  const env = errorOf('FROM a\nENV a=1 \\\n  b\n');
  assert.equal(env.message, messages.missingEquals('"b"'));
  assert.deepEqual([env.line, env.endLine], [3, 3]);
});

test('lines longer than BuildKit accepts are rejected', () => {
  const err = errorOf(`FROM a\nLABEL x=${'a'.repeat(70_000)}\n`);
  assert.equal(err.message, messages.lineTooLong());
  assert.equal(err.line, 2);
  // 65535 bytes is still fine (counting UTF-8 bytes, not characters)
  assert.doesNotThrow(() => parse(`FROM a\nLABEL x=${'a'.repeat(65535 - 8)}\n`));
  assert.equal(errorOf(`FROM a\nLABEL x=${'é'.repeat(33_000)}\n`).message, messages.lineTooLong());
});

test('odd input gives a result or a ParseError, never another exception', () => {
  const inputs = [
    '\0',
    'FROM a\0b\nRUN \0',
    'RUN "unterminated\n',
    'RUN <<"EOF\nEOF\n',
    'RUN <<EOF <<${\nEOF\n',
    'RUN <<EOF${x:-a b}\nx\n',
    'COPY <<\nx\n',
    `CMD ${'['.repeat(50_000)}`,
    `RUN ${'\\\n'.repeat(10_000)}x`,
    `RUN <<EOF\n${'x\n'.repeat(10_000)}`,
    '\ufeff\ufeffFROM a',
    '# escape=\nFROM a',
    `ENV ${'a=b '.repeat(5_000)}`,
    '\r\r\r\n\r',
    'FROM \u2028 a\u00a0b\u0085',
    'ONBUILD ONBUILD',
    '\\',
    `${'ONBUILD '.repeat(8000)}RUN x`,
    `RUN <<EOF ${'${a:-'.repeat(12_000)}\nEOF\n`,
  ];
  for (const input of inputs) {
    try {
      parse(input);
    } catch (err) {
      assert.ok(err instanceof ParseError, `${JSON.stringify(input.slice(0, 40))}: ${String(err)}`);
      assert.doesNotMatch(err.message, /internal parser error/);
      assert.ok(err.line >= 1 && err.column >= 1);
    }
    assert.throws(() => {
      parse(input, { strict: false });
      throw new ParseError('parsed', 1, 1);
    }, ParseError);
  }
});

test('lenient mode accepts what BuildKit’s parser accepts', () => {
  const df = parse('FROBNICATE --x a b\nCOPY a\nFROM a b\n', { strict: false });
  assert.deepEqual(
    df.instructions.map((i) => [i.keyword, i.flags, i.args]),
    [
      ['FROBNICATE', ['--x'], ['']],
      ['COPY', [], ['a']],
      ['FROM', [], ['a', 'b']],
    ],
  );
  // parser-level errors stay errors
  assert.throws(() => parse('ENV PATH', { strict: false }), ParseError);
});
