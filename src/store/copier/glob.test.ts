// COPY's wildcards over a tree: Go's filepath.Match per component (a plain `**` is `*`, as
// BuildKit's and podman's copiers match), `**` as any depth only with doublestar (--parents).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { glob } from './glob.js';
import { hostTree } from './tree.js';

describe('copier glob', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-glob-'));
    for (const f of ['top.txt', 'a/one.txt', 'a/b/two.txt', 'e/x/ysub/three.txt', 'e/x/q/zsub/four.txt', 'e/ysub/five.txt', 'd.txt/in/six.txt', '.hid/seven.txt']) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), f);
    }
    fs.symlinkSync('a', path.join(dir, 'link'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('matches ** as * in a plain COPY: exactly one level, dot names included, links not entered', async () => {
    assert.deepEqual(await glob(hostTree(dir), '**/*.txt'), ['.hid/seven.txt', 'a/one.txt']);
    assert.deepEqual(await glob(hostTree(dir), 'e/**/*sub/*.txt'), ['e/x/ysub/three.txt']);
    assert.deepEqual(await glob(hostTree(dir), '*.txt'), ['d.txt', 'top.txt']);
  });

  it('matches ** at any depth with doublestar (COPY --parents)', async () => {
    const all = await glob(hostTree(dir), '**/*.txt', { doublestar: true });
    for (const f of ['top.txt', 'a/one.txt', 'a/b/two.txt', 'e/x/q/zsub/four.txt', 'd.txt', 'd.txt/in/six.txt']) assert.ok(all.includes(f), f);
    assert.deepEqual((await glob(hostTree(dir), 'e/**/*sub/*.txt', { doublestar: true })).sort(), ['e/x/q/zsub/four.txt', 'e/x/ysub/three.txt', 'e/ysub/five.txt']);
  });
});
