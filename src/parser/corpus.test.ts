// The real-world corpus (testdata/corpus) parses, and strata's instruction structure agrees with
// an independent parser, dockerfile-ast: same instructions, keywords and start/end lines. The
// reference parser's conformance files are compared too, with the known cases where
// dockerfile-ast (not strata, whose output matches BuildKit's golden results) is off.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DockerfileParser } from 'dockerfile-ast';
import { parse } from './index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpusDir = path.join(repoRoot, 'testdata', 'corpus');
const conformanceDir = path.join(repoRoot, '..', 'shared', 'conformance', 'buildkit-parser', 'testfiles');

/**
 * Conformance cases where dockerfile-ast disagrees with BuildKit (strata follows BuildKit):
 * - env: the file ends in a continuation; dockerfile-ast counts the empty line after the last
 *   newline as part of the instruction.
 * - trailing-backslash: `ENV C trailing\\backslash\\` ends in an escaped backslash, which is not a
 *   continuation for BuildKit; dockerfile-ast joins the next line.
 */
const KNOWN_AST_DIVERGENCES = new Set(['env', 'trailing-backslash']);

function structure(text: string): string[] {
  return parse(text).instructions.map((i) => `${i.keyword} ${i.startLine}-${i.endLine}`);
}

function astStructure(text: string): string[] {
  return DockerfileParser.parse(text)
    .getInstructions()
    .map((i) => `${i.getKeyword().toUpperCase()} ${i.getRange().start.line + 1}-${i.getRange().end.line + 1}`);
}

function corpusFiles(): string[] {
  return fs.readdirSync(corpusDir).filter((f) => f.endsWith('.Dockerfile')).sort();
}

describe('real-world corpus', () => {
  const files = corpusFiles();

  it('holds the collected Dockerfiles, each listed in SOURCES.md', () => {
    assert.ok(files.length >= 40, `only ${files.length} corpus files`);
    const sources = fs.readFileSync(path.join(corpusDir, 'SOURCES.md'), 'utf8');
    const listed = new Set([...sources.matchAll(/^\| `([^`]+\.Dockerfile)`/gm)].map((m) => m[1]));
    assert.deepEqual(files.filter((f) => !listed.has(f)), [], 'files missing from SOURCES.md');
    assert.deepEqual([...listed].filter((f) => !files.includes(f)), [], 'SOURCES.md lists files that are not there');
  });

  for (const file of files) {
    it(`${file}: parses and agrees with dockerfile-ast`, () => {
      const text = fs.readFileSync(path.join(corpusDir, file), 'utf8');
      const ours = structure(text);
      assert.ok(ours.length > 0, 'no instructions');
      assert.deepEqual(ours, astStructure(text));
    });
  }
});

describe('conformance files against dockerfile-ast', { skip: !fs.existsSync(conformanceDir) && 'no ../shared conformance files' }, () => {
  const cases = fs.existsSync(conformanceDir) ? fs.readdirSync(conformanceDir).sort() : [];
  for (const name of cases) {
    it(name, () => {
      const text = fs.readFileSync(path.join(conformanceDir, name, 'Dockerfile'), 'utf8');
      const same = JSON.stringify(structure(text)) === JSON.stringify(astStructure(text));
      // A divergence listed as dockerfile-ast's must still be there: otherwise the list is stale.
      assert.equal(same, !KNOWN_AST_DIVERGENCES.has(name), same ? 'agrees now: drop it from KNOWN_AST_DIVERGENCES' : 'new disagreement');
    });
  }
});
