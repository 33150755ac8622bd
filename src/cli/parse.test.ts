// `strata parse` end to end: the real CLI in a child process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { renderResult } from '../parser/render.js';
import type { Dockerfile } from '../parser/types.js';
import { repoRoot, runStrata, tempDir } from '../testing/cli.js';

const conformance = path.resolve(repoRoot, '..', 'shared', 'conformance', 'buildkit-parser', 'testfiles');
let work: { dir: string; cleanup: () => void };

before(() => {
  work = tempDir('strata-parse-');
});
after(() => work.cleanup());

test('parse --json prints the tree that renders to the reference result', () => {
  const dir = path.join(conformance, 'lk4d4-the-edge-case-generator');
  const result = runStrata(['parse', '--json', path.join(dir, 'Dockerfile')], { root: work.dir });
  assert.equal(result.status, 0, result.stderr);
  const tree = JSON.parse(result.stdout) as Dockerfile;
  assert.equal(renderResult(tree), fs.readFileSync(path.join(dir, 'result'), 'utf8'));
});

test('parse lists instructions with their line ranges, reading ./Dockerfile by default', () => {
  fs.writeFileSync(path.join(work.dir, 'Dockerfile'), '# escape=`\nFROM alpine AS base\n\nRUN echo a `\n  b\nCOPY <<EOF /x\nhello\nEOF\n');
  const result = runStrata(['parse'], { root: work.dir, cwd: work.dir });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(
    result.stdout,
    ['# escape=`', 'L2    (from "alpine" "AS" "base")', 'L4-5  (run "echo a   b")', 'L6-8  (copy "<<EOF" "/x")', '        <<EOF (1 line)', ''].join('\n'),
  );
});

test('parse reads stdin with -', () => {
  const result = runStrata(['parse', '-'], { root: work.dir, input: Buffer.from('from scratch\ncmd ["a"]\n') });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, 'L1  (from "scratch")\nL2  (cmd "a")\n');
});

test('a parse error names the file, line and column, shows the line with a caret and exits 1', () => {
  const file = path.join(work.dir, 'Bad.Dockerfile');
  fs.writeFileSync(file, 'FROM alpine\n\tCOPPY . /app\n');
  const result = runStrata(['parse', '-f', file], { root: work.dir });
  assert.equal(result.status, 1);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, `${file}:2:2: unknown instruction "COPPY" (did you mean COPY?)\n\tCOPPY . /app\n\t^\n`);
});

test('a missing Dockerfile is one line and exit code 125', () => {
  const result = runStrata(['parse', path.join(work.dir, 'nope')], { root: work.dir });
  assert.equal(result.status, 125);
  assert.equal(result.stderr, `Error: reading Dockerfile "${path.join(work.dir, 'nope')}": no such file or directory\n`);
});
