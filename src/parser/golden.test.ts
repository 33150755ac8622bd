// Golden files in testdata/parser/<case>/: a Dockerfile, its `result` dump, and
// expected.json (line ranges, heredocs, directives, escape token). The expectations were
// produced by BuildKit's own parser, so these extend the conformance suite to heredocs,
// the backtick escape with CRLF and a BOM, ONBUILD triggers and long official-style files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from './index.js';
import { renderResult } from './render.js';
import type { Directive, Heredoc } from './types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const goldenDir = path.join(repoRoot, 'testdata', 'parser');

interface Expected {
  lines: [number, number][];
  heredocs: Heredoc[][];
  directives: Directive[];
  escapeToken: string;
}

const cases = fs.readdirSync(goldenDir).filter((name) => fs.existsSync(path.join(goldenDir, name, 'result'))).sort();

test('the golden cases are present', () => {
  assert.ok(cases.length >= 6);
});

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const dir = path.join(goldenDir, name);
    const df = parse(fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8'));
    const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
    assert.equal(renderResult(df), fs.readFileSync(path.join(dir, 'result'), 'utf8'));
    assert.deepEqual(df.instructions.map((i) => [i.startLine, i.endLine]), expected.lines);
    assert.deepEqual(df.instructions.map((i) => (i.onbuild ?? i).heredocs), expected.heredocs);
    assert.deepEqual(df.directives, expected.directives);
    assert.equal(df.escapeToken, expected.escapeToken);
  });
}
