// The import rules of shared/ARCHITECTURE.md hold for src/, and each rule fails when it is
// broken: on a copy of a small synthetic tree (testdata/import-rules/tree) one import is added
// that breaks it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, tempDir, testdataDir } from './cli.js';
import { checkImportRules, type ViolationKind } from './import-rules.js';

const TREE = path.join(testdataDir, 'import-rules', 'tree');

/** Violations of a copy of the synthetic tree after `change` (file -> a line appended, or a new file's text). */
function violationsAfter(change: Record<string, string>): Array<{ kind: ViolationKind; message: string }> {
  const { dir, cleanup } = tempDir('strata-import-rules-');
  try {
    fs.cpSync(TREE, dir, { recursive: true });
    for (const [file, line] of Object.entries(change)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.appendFileSync(path.join(dir, file), `${line}\n`);
    }
    return checkImportRules(dir).map(({ kind, message }) => ({ kind, message }));
  } finally {
    cleanup();
  }
}

describe('import rules', () => {
  it('hold for src/: no upward import, no reach into another folder, no cycle, no test file shipped in the graph', () => {
    const violations = checkImportRules(path.join(repoRoot, 'src'));
    assert.deepEqual(violations.map((v) => v.message), []);
  });

  it('hold for the synthetic tree as it is', () => {
    assert.deepEqual(violationsAfter({}), []);
  });

  const cases: Array<{ name: string; change: Record<string, string>; kind: ViolationKind; message: RegExp }> = [
    { name: 'an upward import (the store importing the builder)', change: { 'store/store.ts': "import { build } from '../builder/index.js';" },
      kind: 'upward', message: /^store\/store\.ts:10: store may not import builder \(builder\/index\.ts\): it is not below it$/ },
    { name: 'a type-only upward import', change: { 'store/store.ts': "import type { engine } from '../engine/index.js';" },
      kind: 'upward', message: /store may not import engine/ },
    { name: 'an import between folders of one layer', change: { 'parser/index.ts': "import { hash } from '../hash/index.js';" },
      kind: 'upward', message: /parser may not import hash/ },
    { name: 'the runtime importing the parser', change: { 'runtime/run.ts': "import { parse } from '../parser/index.js';" },
      kind: 'upward', message: /runtime may not import parser .*only the layers from the builder up/ },
    { name: "an import of another folder's internals (shim internals from the engine)", change: { 'engine/index.ts': "import { state } from '../runtime/shim/state.js';" },
      kind: 'internal', message: /^engine\/index\.ts:5: imports runtime\/shim\/state\.ts, an internal of runtime: import runtime\/index\.ts$/ },
    { name: 'a dynamic import of internals', change: { 'cli/main.ts': "export const lazy = () => import('../store/store.js');" },
      kind: 'internal', message: /cli\/main\.ts:7: imports store\/store\.ts/ },
    { name: 'a cycle between two files', change: { 'runtime/shim/state.ts': "export { run } from '../run.js';" },
      kind: 'cycle', message: /^import cycle: runtime\/run\.ts -> runtime\/shim\/state\.ts -> runtime\/run\.ts$/ },
    { name: 'a cycle through a dynamic import', change: { 'cli/format.ts': "export const again = () => import('./main.js');" },
      kind: 'cycle', message: /^import cycle: cli\/format\.ts -> cli\/main\.ts -> cli\/format\.ts$/ },
    { name: 'a test-only file imported by shipped code', change: { 'cli/main.ts': "export { fixture } from '../testing/fixture.js';" },
      kind: 'test-only', message: /cli\/main\.ts:7: imports the test-only file testing\/fixture\.ts/ },
    { name: 'a folder with no layer', change: { 'util/strings.ts': "export const trim = (s: string): string => s.trim();" },
      kind: 'unknown-folder', message: /folder "util" has no layer/ },
    { name: 'an import of a file that does not exist', change: { 'engine/index.ts': "import { gone } from './gone.js';" },
      kind: 'unresolved', message: /engine\/index\.ts:5: "\.\/gone\.js" names no file of the tree/ },
  ];
  for (const c of cases) {
    it(`fail on ${c.name}`, () => {
      const found = violationsAfter(c.change);
      assert.ok(found.some((v) => v.kind === c.kind && c.message.test(v.message)), JSON.stringify(found));
      // An upward import also closes a cycle with the imports down from there: nothing else is reported.
      assert.deepEqual(found.filter((v) => v.kind !== c.kind && v.kind !== 'cycle'), []);
    });
  }
});
