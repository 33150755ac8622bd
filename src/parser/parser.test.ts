// Line structure: directives, comments, continuations, CRLF, BOM, line numbers, original text.
// Expected values were checked against BuildKit's parser.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, ParseError } from './index.js';
import { renderResult } from './render.js';
import { messages } from './errors.js';

const render = (text: string) => renderResult(parse(text));
const lines = (text: string) => parse(text).instructions.map((i) => [i.startLine, i.endLine]);

test('directives are read only from the comment lines at the top', () => {
  const df = parse('# syntax=docker/dockerfile:1\n#check=skip=all\n  # ESCAPE = `   \nFROM a\n# escape=\\\nRUN a `\n  b\n');
  assert.deepEqual(df.directives, [
    { name: 'syntax', value: 'docker/dockerfile:1' },
    { name: 'check', value: 'skip=all' },
    { name: 'escape', value: '`' },
  ]);
  assert.equal(df.escapeToken, '`');
  assert.equal(renderResult(df), '(from "a")\n(run "a   b")\n');
});

test('a blank line, an ordinary comment or an unknown directive ends the directives', () => {
  assert.deepEqual(parse('\n# escape=`\nFROM a\n').directives, []);
  assert.deepEqual(parse('# hello\n# escape=`\nFROM a\n').directives, []);
  assert.deepEqual(parse('# foo=bar\n# escape=`\nFROM a\n').directives, []);
  assert.equal(parse('# foo=bar\n# escape=`\nFROM a\n').escapeToken, '\\');
});

test('the backtick escape continues lines and leaves backslashes alone', () => {
  assert.equal(render('# escape=`\nFROM a\nRUN dir c:\\ `\n  && echo hi\nENV P=c:\\x`\ny\n'), '(from "a")\n(run "dir c:\\\\   && echo hi")\n(env "P" "c:\\\\xy" "=")\n');
});

test('repeated and invalid directives are errors on their line', () => {
  assert.throws(() => parse('# escape=`\n# escape=\\\nFROM a\n'), { name: 'ParseError', message: messages.duplicateDirective('escape'), line: 2 });
  assert.throws(() => parse('# syntax=a\n# escape=x\nFROM a\n'), { message: messages.invalidEscape('x'), line: 2 });
});

test('continuations skip comment and blank lines and join the rest without separators', () => {
  assert.equal(render('RUN a \\\n# comment\n\n   # indented comment\n  b\\\nc\n'), '(run "a   bc")\n');
  assert.deepEqual(lines('RUN a \\\n# comment\n\n  b\n'), [[1, 4]]);
  // "\\" at the end is an escaped backslash, not a continuation; blanks after a "\" are allowed.
  assert.equal(render('RUN a \\\\\nRUN b \\  \t\nc\n'), '(run "a \\\\\\\\")\n(run "b c")\n');
  // A lone escape token starts a continuation with nothing before it.
  assert.equal(render('FROM a\n\\\nRUN x\n'), '(from "a")\n(run "x")\n');
});

test('blank lines inside a continuation are accepted with a warning, as BuildKit does', () => {
  const df = parse('FROM a\nRUN a \\\n\n  b \\\n\n  c\nRUN d \\\n# comment\n  e\n');
  assert.equal(renderResult(df), '(from "a")\n(run "a   b   c")\n(run "d   e")\n');
  assert.deepEqual(df.warnings, [{ line: 3, message: messages.emptyContinuation(2) }]);
  assert.equal(parse('FROM a\n\nRUN b\n').warnings, undefined);
});

test('a continuation may run into the end of the file', () => {
  const df = parse('FROM a\nRUN b \\\n# trailing comment\n');
  assert.equal(renderResult(df), '(from "a")\n(run "b")\n');
  assert.deepEqual(df.instructions.map((i) => [i.startLine, i.endLine]), [[1, 1], [2, 3]]);
});

test('instructions carry 1-based line ranges, comments and blank lines between them', () => {
  const text = ['# syntax=x', '', 'FROM a', '', '# c', 'RUN a \\', '', '  b \\', '# c', '  c', 'CMD d'].join('\n');
  assert.deepEqual(lines(text), [[3, 3], [6, 10], [11, 11]]);
});

test('CRLF line endings and a BOM parse exactly like LF', () => {
  const lf = '# escape=`\nFROM a\nRUN echo `\n  b\nCOPY <<EOF /x\nhi\nEOF\n';
  const crlf = `\ufeff${lf.replace(/\n/g, '\r\n')}`;
  const a = parse(lf);
  const b = parse(crlf);
  assert.equal(renderResult(b), renderResult(a));
  assert.deepEqual(b.directives, a.directives);
  assert.deepEqual(b.instructions.map((i) => i.original), a.instructions.map((i) => i.original));
  // heredoc bodies are kept byte for byte, as BuildKit keeps them
  assert.equal(b.instructions[2]!.heredocs[0]!.content, 'hi\r\n');
});

test('keywords are case-insensitive and come out upper case', () => {
  const df = parse('from a\nRuN b\nhealthCHECK NONE\n');
  assert.deepEqual(df.instructions.map((i) => i.keyword), ['FROM', 'RUN', 'HEALTHCHECK']);
  assert.equal(renderResult(df), '(from "a")\n(run "b")\n(healthcheck "NONE")\n');
});

test('original is the source text of the instruction, lines joined with "\\n"', () => {
  const df = parse('FROM a\n  RUN a \\\r\n# c\r\n  b\nONBUILD   RUN x \\\n  y\n');
  assert.equal(df.instructions[1]!.original, 'RUN a \\\n# c\n  b');
  assert.equal(df.instructions[2]!.original, 'ONBUILD   RUN x \\\n  y');
  assert.equal(df.instructions[2]!.onbuild!.original, 'RUN x \\\n  y');
});

test('files without instructions are rejected', () => {
  for (const text of ['', '\n\n', '# only\n# comments\n', '# syntax=x\n']) {
    assert.throws(() => parse(text), (err: unknown) => err instanceof ParseError && err.message === messages.noInstructions());
  }
});
