// The conformance `result` format: Go's strconv.Quote and Node.Dump.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goQuote, goQuoteList } from './quote.js';
import { renderResult } from './render.js';
import { parse } from './index.js';

test('goQuote escapes like strconv.Quote', () => {
  assert.equal(goQuote('plain text'), '"plain text"');
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote('\x07\b\f\n\r\t\v'), '"\\a\\b\\f\\n\\r\\t\\v"');
  assert.equal(goQuote('\x00\x1b\x7f'), '"\\x00\\x1b\\x7f"');
  assert.equal(goQuote('é ♥ ☃ 😀'), '"é ♥ ☃ 😀"');
  // non-printable: NBSP, C1 controls, zero-width and format characters, private use
  assert.equal(goQuote('\u00a0\u0085\u200b\ufeff\ue000'), '"\\u00a0\\u0085\\u200b\\ufeff\\ue000"');
  assert.equal(goQuote('\u{f0000}'), '"\\U000f0000"');
  assert.equal(goQuoteList(['--a=1', 'b c']), '["--a=1" "b c"]');
});

test('renderResult prints one s-expression per instruction', () => {
  const text = 'FROM a\nCOPY --from=b ["x y", "/z"]\nONBUILD RUN echo\nENV k=v\n';
  assert.equal(renderResult(parse(text)), '(from "a")\n(copy ["--from=b"] "x y" "/z")\n(onbuild (run "echo"))\n(env "k" "v" "=")\n');
});
