// ADD --chown of a local archive, as podman extracts it: the entries keep the archive's owners,
// the parent directories the extraction had to make get the --chown owner, and a directory an
// archive symlink points out of the destination is never touched.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerRunner } from '../runtime/types.js';
import { openStore, type Store } from '../store/store.js';
import { tempDir } from '../testing/cli.js';
import { build } from './build.js';
import { closeHashing } from './context.js';
import { QuietReporter } from './progress.js';

const noRunner: ContainerRunner = {
  run: async () => {
    throw new Error('no container expected');
  },
};

describe('ADD --chown of an archive', { skip: process.getuid?.() !== 0 && 'needs root (ownership)' }, () => {
  let t: ReturnType<typeof tempDir>;
  let store: Store;
  let ctx: string;
  before(async () => {
    t = tempDir('strata-add-chown-');
    store = await openStore(path.join(t.dir, 'root'));
    ctx = path.join(t.dir, 'ctx');
    const src = path.join(t.dir, 'src');
    fs.mkdirSync(path.join(src, 'x', 'y'), { recursive: true });
    fs.mkdirSync(path.join(src, 'z'));
    fs.writeFileSync(path.join(src, 'x', 'y', 'file'), 'deep\n');
    fs.writeFileSync(path.join(src, 'z', 'f'), 'z\n');
    fs.mkdirSync(ctx);
    // x/y/file alone (its parents have no entries), then z/ and z/f with owners of their own.
    const tar = (args: string[]) => execFileSync('tar', ['-C', src, '--numeric-owner', ...args]);
    tar(['--owner=11', '--group=12', '-cf', path.join(ctx, 'a.tar'), 'x/y/file']);
    tar(['--owner=7', '--group=8', '--no-recursion', '-rf', path.join(ctx, 'a.tar'), 'z']);
    tar(['--owner=9', '--group=10', '-rf', path.join(ctx, 'a.tar'), 'z/f']);
  });
  after(async () => {
    await closeHashing();
    t.cleanup();
  });

  it('gives the owner to the directories the extraction made, not to the entries', async () => {
    const r = await build({
      stateRoot: store.root, store, runner: noRunner, reporter: new QuietReporter(process.stderr), contextDir: ctx,
      dockerfile: { text: 'FROM scratch\nADD --chown=1234:5678 a.tar /dst/\n', name: 'Dockerfile' },
    });
    const root = await store.layerPath(r.image.config.rootfs.diff_ids.at(-1)!);
    const owner = (rel: string) => {
      const st = fs.lstatSync(path.join(root, 'dst', rel));
      return `${st.uid}:${st.gid}`;
    };
    assert.equal(owner('x'), '1234:5678');
    assert.equal(owner('x/y'), '1234:5678');
    assert.equal(owner('x/y/file'), '11:12');
    assert.equal(owner('z'), '7:8');
    assert.equal(owner('z/f'), '9:10');
  });
});
