// README's library example stays true: the code block after `<!-- library-example -->` is
// type-checked against the package's entry (dist/index.d.ts) with the project's compiler options,
// then compiled and run against a fresh state root: it builds, lists history, saves and removes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import ts from 'typescript';
import { closeHashPool } from '../hash/pool.js';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { repoRoot, tempDir } from '../testing/cli.js';

function example(): string {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const m = /<!-- library-example -->\n```ts\n([\s\S]*?)\n```/.exec(readme);
  assert.ok(m, 'README has the library example');
  assert.match(m[1]!, /from 'strata';/);
  return m[1]!;
}

test("README's library example type-checks against the package's entry", () => {
  const t = tempDir('strata-readme-');
  try {
    const file = path.join(t.dir, 'example.mts');
    // The entry's types as the package gives them to a user's compiler (package.json "types":
    // dist/index.d.ts, declarations tsc made from src/): not src/'s code again, whose bodies the
    // build has just checked.
    fs.writeFileSync(file, example().replace("from 'strata'", `from ${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))}`));
    const config = ts.readConfigFile(path.join(repoRoot, 'tsconfig.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot);
    const program = ts.createProgram([file], { ...options, noEmit: true, incremental: false, rootDir: undefined, declaration: false });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    assert.deepEqual(errors, []);
  } finally {
    t.cleanup();
  }
});

test("README's library example runs: builds, shows history, saves, removes", async () => {
  const t = tempDir('strata-readme-');
  try {
    const root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    await closeHashPool();
    const js = ts.transpileModule(example(), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    const file = path.join(t.dir, 'example.mjs');
    fs.writeFileSync(file, js.replace("from 'strata'", `from ${JSON.stringify(pathToFileURL(path.join(repoRoot, 'dist', 'index.js')).href)}`));
    const r = spawnSync(process.execPath, [file], { cwd: t.dir, env: { ...process.env, STRATA_ROOT: root }, encoding: 'utf8', timeout: 180_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^RUN echo hello > \/greeting: built$/m);
    assert.match(r.stdout, /^built sha256:[0-9a-f]{64} in /m);
    assert.match(r.stdout, /^RUN \/bin\/sh -c echo hello > \/greeting # buildkit$/m, 'the history');
    assert.match(r.stdout, /^exit code 0\nhello\n/m, 'the container ran the image');
    assert.match(r.stdout, /Untagged: 'hello:lib'/);
    assert.ok(fs.statSync(path.join(t.dir, 'hello.tar')).size > 1024, 'the archive was written');
  } finally {
    t.cleanup();
  }
});
