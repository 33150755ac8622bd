// COPY --parents: pivot parsing, and real builds (FROM scratch, no container) whose top layer
// is checked file by file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerRunner } from '../runtime/types.js';
import { openStore, type Store } from '../store/store.js';
import { tempDir } from '../testing/cli.js';
import { build } from './build.js';
import { closeHashing } from './context.js';
import { keptPath, splitPivot } from './copy-parents.js';
import { QuietReporter } from './progress.js';

describe('COPY --parents pivots', () => {
  it('splits a source at its "/./" pivot', () => {
    assert.deepEqual(splitPivot('./x/./y/*.txt'), { select: 'x/y/*.txt', base: 'x' });
    assert.deepEqual(splitPivot('/a/b/./c'), { select: 'a/b/c', base: 'a/b' });
    assert.deepEqual(splitPivot('./x/a.txt'), { select: 'x/a.txt', base: '' });
    assert.deepEqual(splitPivot('x/./'), { select: 'x/', base: 'x' });
  });
  it('keeps the path after the pivot', () => {
    assert.equal(keptPath('x/y/a.txt', 'x'), 'y/a.txt');
    assert.equal(keptPath('x/y/a.txt', ''), 'x/y/a.txt');
    assert.equal(keptPath('x', 'x'), '');
  });
});

const noRunner: ContainerRunner = {
  run: async () => {
    throw new Error('no container expected');
  },
};

describe('COPY --parents (builds)', () => {
  let t: ReturnType<typeof tempDir>;
  let store: Store;
  let ctx: string;
  before(async () => {
    t = tempDir('strata-parents-');
    store = await openStore(path.join(t.dir, 'root'));
    ctx = path.join(t.dir, 'ctx');
    for (const f of ['x/a.txt', 'y/a.txt', 'x/y/a.txt', 'x/y/b.txt', 'src/a.txt', 'src/x/b.txt', 'src/x/y/c.txt', 'src/x/y/c.md', 'dir/sub/f']) {
      fs.mkdirSync(path.dirname(path.join(ctx, f)), { recursive: true });
      fs.writeFileSync(path.join(ctx, f), f);
    }
    fs.chmodSync(path.join(ctx, 'src', 'x'), 0o700);
    fs.utimesSync(path.join(ctx, 'src', 'x'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
  });
  after(async () => {
    await closeHashing();
    t.cleanup();
  });

  async function top(text: string): Promise<{ root: string; files: string[] }> {
    const r = await build({
      stateRoot: store.root, store, runner: noRunner, reporter: new QuietReporter(process.stderr), contextDir: ctx,
      dockerfile: { text, name: 'Dockerfile' },
    });
    const root = await store.layerPath(r.image.config.rootfs.diff_ids.at(-1)!);
    const files: string[] = [];
    const walk = (rel: string) => {
      for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
        const p = rel ? `${rel}/${name}` : name;
        if (fs.statSync(path.join(root, p)).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk('');
    return { root, files };
  }

  it('keeps parent directories, where plain COPY flattens', async () => {
    assert.deepEqual((await top('FROM scratch\nCOPY --parents ./x/a.txt ./y/a.txt /parents/')).files, ['parents/x/a.txt', 'parents/y/a.txt']);
    assert.deepEqual((await top('FROM scratch\nCOPY ./x/a.txt ./y/a.txt /no_parents/')).files, ['no_parents/a.txt']);
  });

  it('keeps only what follows a "./" pivot', async () => {
    assert.deepEqual((await top('FROM scratch\nCOPY --parents ./x/./y/*.txt /parents/')).files, ['parents/y/a.txt', 'parents/y/b.txt']);
  });

  it('matches any depth with "**" and gives new parents the source mode and mtime', async () => {
    const { root, files } = await top('FROM scratch\nCOPY --parents ./src/**/*.txt /parents/');
    assert.deepEqual(files, ['parents/src/a.txt', 'parents/src/x/b.txt', 'parents/src/x/y/c.txt']);
    const st = fs.statSync(path.join(root, 'parents/src/x'));
    assert.equal(st.mode & 0o7777, 0o700);
    assert.equal(st.mtime.toISOString(), '2001-02-03T04:05:06.000Z');
  });

  it('copies a directory source under its kept path, also without a trailing slash on the destination', async () => {
    assert.deepEqual((await top('FROM scratch\nCOPY --parents dir/sub /d')).files, ['d/dir/sub/f']);
  });

  it('keeps parents of paths copied from another stage, with the pivot', async () => {
    const text = 'FROM scratch AS a\nCOPY x /opt/x\nFROM scratch\nCOPY --from=a --parents /opt/./x/y/a.txt /opt/x/a.txt /out/\n';
    assert.deepEqual((await top(text)).files, ['out/opt/x/a.txt', 'out/x/y/a.txt']);
    const globbed = 'FROM scratch AS a\nCOPY src /opt/src\nFROM scratch\nCOPY --from=a --parents /opt/./src/**/*.txt /out/\n';
    assert.deepEqual((await top(globbed)).files, ['out/src/a.txt', 'out/src/x/b.txt', 'out/src/x/y/c.txt']);
  });

  it('names the source as written when it matches nothing', async () => {
    await assert.rejects(top('FROM scratch\nCOPY --parents ./x/./nope.txt /d/'), /Dockerfile:2: COPY failed: file not found in build context: "\.\/x\/\.\/nope\.txt"/);
  });

  it('is refused on ADD, with the line', async () => {
    await assert.rejects(top('FROM scratch\nADD --parents x/a.txt /d/'), /Dockerfile:2: unknown flag: --parents for add/);
  });
});
