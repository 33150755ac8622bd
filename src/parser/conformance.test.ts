// BuildKit's own parser test cases (../shared/conformance/buildkit-parser): every positive
// case must render byte for byte to its `result`, every negative case must be a ParseError.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, ParseError } from './index.js';
import { renderResult } from './render.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const conformance = path.resolve(repoRoot, '..', 'shared', 'conformance', 'buildkit-parser');

function cases(folder: string): string[] {
  const dir = path.join(conformance, folder);
  return fs
    .readdirSync(dir)
    .filter((name) => fs.existsSync(path.join(dir, name, 'Dockerfile')))
    .sort();
}

const positive = cases('testfiles');
const negative = cases('testfiles-negative');

test('the conformance suite is present', () => {
  assert.ok(positive.length >= 30, `expected the reference cases in ${conformance}`);
  assert.ok(negative.length >= 4);
});

for (const name of positive) {
  test(`conformance: ${name}`, () => {
    const dir = path.join(conformance, 'testfiles', name);
    const dockerfile = fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    const expected = fs.readFileSync(path.join(dir, 'result'), 'utf8');
    assert.equal(renderResult(parse(dockerfile)), expected);
  });
}

for (const name of negative) {
  test(`conformance (negative): ${name}`, () => {
    const dockerfile = fs.readFileSync(path.join(conformance, 'testfiles-negative', name, 'Dockerfile'), 'utf8');
    assert.throws(() => parse(dockerfile), ParseError);
  });
}
