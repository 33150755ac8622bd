// bin/strata, the command a user types: Node must not take strata's own flags as its options
// (Node 20 looks for an --env-file anywhere on its command line, also after the script, and
// exits 9 with "node: FILE: not found" when it is missing).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { repoRoot, tempDir } from '../testing/cli.js';

const launcher = path.join(repoRoot, 'bin', 'strata');
const built = fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'start.cjs'));

describe('bin/strata passes --env-file to strata, not to Node', { skip: !built && 'needs `npm run build`' }, () => {
  let t: ReturnType<typeof tempDir>;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    t = tempDir('strata-launcher-');
    const root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    env = { ...process.env, STRATA_ROOT: root };
  });

  after(() => t.cleanup());

  const strata = (args: string[]) => spawnSync(launcher, args, { env, encoding: 'utf8', timeout: 60_000 });

  it('a missing --env-file is strata\'s one-line error (exit 125), in both spellings', () => {
    const missing = path.join(t.dir, 'missing.env');
    for (const flag of [['--env-file', missing], [`--env-file=${missing}`]]) {
      const r = strata(['run', '--rm', ...flag, 'busybox', 'true']);
      assert.equal(r.status, 125, r.stderr);
      assert.equal(r.stderr, `Error: reading env file "${missing}": no such file or directory\n`);
    }
  });
});
