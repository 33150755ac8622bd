// bundle-load.cjs: a bundle is loaded while no tsc has emitted since it was made (one stat of tsc's
// build info), and refused when a file it was made from is newer, whatever the build info says.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const require = createRequire(import.meta.url);
const { loadBundleIn } = require('./bundle-load.cjs') as typeof import('./bundle-load.cjs');

describe('loadBundleIn: stale bundles', () => {
  let dir: string;
  const at = (file: string, s: number) => fs.utimesSync(path.join(dir, file), s, s);
  const load = () => loadBundleIn(path.join(dir, 'cli'), 'b.cjs', 'b.cjs.v8cache');
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bundle-load-'));
    fs.mkdirSync(path.join(dir, 'cli'));
    fs.writeFileSync(path.join(dir, 'cli', 'b.cjs'), 'module.exports.answer = 42;');
    for (const f of ['a.js', '.tsbuildinfo']) fs.writeFileSync(path.join(dir, f), '');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (inputs: unknown) => fs.writeFileSync(path.join(dir, 'cli', 'b.cjs.inputs'), JSON.stringify(inputs));
  const cases: Array<[string, unknown, number, number, boolean]> = [
    // [what, .inputs, a.js mtime, build info mtime, loaded]
    ['no tsc since the bundle', { buildInfo: '../.tsbuildinfo', files: ['../a.js'] }, 1000, 1000, true],
    ['a tsc that emitted a.js since', { buildInfo: '../.tsbuildinfo', files: ['../a.js'] }, 3000, 3000, false],
    // A .js written by hand, not by tsc: the one stat trusts tsc's record (what the check is for).
    ['an input newer, no tsc since', { buildInfo: '../.tsbuildinfo', files: ['../a.js'] }, 3000, 1000, true],
    ['a tsc --noEmit since (build info newer, inputs not)', { buildInfo: '../.tsbuildinfo', files: ['../a.js'] }, 1000, 3000, true],
    ['no build info file', { buildInfo: '../missing', files: ['../a.js'] }, 1000, 1000, true],
    ['an input gone, build info newer', { buildInfo: '../.tsbuildinfo', files: ['../gone.js'] }, 1000, 3000, false],
    ['the list of earlier builds, an input newer', ['../a.js'], 3000, 1000, false],
    ['the list of earlier builds, inputs older', ['../a.js'], 1000, 1000, true],
  ];
  for (const [what, inputs, input, info, loaded] of cases) {
    it(what, () => {
      write(inputs);
      at('cli/b.cjs', 2000);
      at('a.js', input);
      at('.tsbuildinfo', info);
      assert.equal(load()?.answer, loaded ? 42 : undefined);
    });
  }
});
