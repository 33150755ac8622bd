import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { INLINE_HASH_FILES } from '../hash/file-hash.js';
import { closeHashPool } from '../hash/pool.js';
import { tempDir } from '../testing/cli.js';
import { BuildContext } from './context.js';
import { parseIgnoreFile } from './dockerignore.js';

describe('build context', () => {
  let t: ReturnType<typeof tempDir>;
  let ctx: string;
  let cacheFile: string;
  before(() => {
    t = tempDir('strata-ctx-');
    ctx = path.join(t.dir, 'ctx');
    cacheFile = path.join(t.dir, 'state', 'statcache.json');
    fs.mkdirSync(path.join(ctx, 'src', 'sub'), { recursive: true });
    fs.mkdirSync(path.join(ctx, 'logs'));
    fs.writeFileSync(path.join(ctx, 'src', 'a.txt'), 'a');
    fs.writeFileSync(path.join(ctx, 'src', 'sub', 'b.txt'), 'b');
    fs.writeFileSync(path.join(ctx, 'logs', 'x.log'), 'x');
    fs.writeFileSync(path.join(ctx, 'logs', 'keep.log'), 'k');
    fs.writeFileSync(path.join(ctx, 'secret.env'), 's');
    fs.symlinkSync('/etc/passwd', path.join(ctx, 'abs-link'));
    fs.symlinkSync('../../..', path.join(ctx, 'src', 'up-link'));
    fs.symlinkSync('sub', path.join(ctx, 'src', 'sub-link'));
  });
  after(async () => {
    await closeHashPool();
    t.cleanup();
  });

  it('walks the context minus .dockerignore, with ! exceptions inside ignored dirs', async () => {
    const c = await BuildContext.open(ctx, { ignore: parseIgnoreFile('logs\n!logs/keep.log\n*.env\n') });
    assert.deepEqual([...c.entries.keys()].sort(), ['abs-link', 'logs', 'logs/keep.log', 'src', 'src/a.txt', 'src/sub', 'src/sub-link', 'src/sub/b.txt', 'src/up-link']);
    assert.deepEqual(c.list('logs'), ['keep.log']);
  });

  it('resolves symlinks without leaving the context', async () => {
    const c = await BuildContext.open(ctx);
    assert.equal(c.resolve('abs-link'), undefined, '/etc/passwd is looked up inside the context');
    assert.equal(c.resolve('src/up-link')?.path, '', '../../.. stops at the context root');
    assert.equal(c.resolve('src/up-link/src/a.txt')?.path, 'src/a.txt');
    assert.equal(c.resolve('src/sub-link/b.txt')?.path, 'src/sub/b.txt');
    assert.equal(c.resolve('src/sub-link', false)?.type, 'symlink');
    assert.equal(c.resolve('../../etc/passwd'), undefined);
  });

  it('hashes only what the stat cache does not know', async () => {
    const files = ['src/a.txt', 'src/sub/b.txt'];
    const cold = await BuildContext.open(ctx, { statCacheFile: cacheFile });
    const h1 = await cold.hashFiles(files);
    assert.equal(cold.hashedFiles, 2);
    assert.equal(h1.get('src/a.txt'), 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb');
    await cold.saveStatCache();

    const warm = await BuildContext.open(ctx, { statCacheFile: cacheFile });
    assert.deepEqual(await warm.hashFiles(files), h1);
    assert.equal(warm.hashedFiles, 0, 'a warm walk reads no unchanged file');

    fs.writeFileSync(path.join(ctx, 'src', 'a.txt'), 'changed');
    const inc = await BuildContext.open(ctx, { statCacheFile: cacheFile });
    const h3 = await inc.hashFiles(files);
    assert.equal(inc.hashedFiles, 1);
    assert.notEqual(h3.get('src/a.txt'), h1.get('src/a.txt'));
    assert.equal(h3.get('src/sub/b.txt'), h1.get('src/sub/b.txt'));
  });
  it('reads the stat cache it writes (version 2) and the one older strata wrote (version 1)', async () => {
    const file = path.join(t.dir, 'state', 'statcache-versions.json');
    const cold = await BuildContext.open(ctx, { statCacheFile: file });
    const h = await cold.hashFiles(['src/sub/b.txt']);
    await cold.saveStatCache();
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; files: unknown[][] };
    assert.equal(stored.version, 2);
    assert.deepEqual(stored.files.map((f) => f[0]), ['src/sub/b.txt']);
    const warm = await BuildContext.open(ctx, { statCacheFile: file });
    assert.deepEqual(await warm.hashFiles(['src/sub/b.txt']), h);
    assert.equal(warm.hashedFiles, 0);
    // An upgrade keeps what the older format remembered: no build rehashes the whole context for it.
    fs.writeFileSync(file, JSON.stringify({ version: 1, files: Object.fromEntries(stored.files.map(([p, ...c]) => [p, c])) }));
    const old = await BuildContext.open(ctx, { statCacheFile: file });
    assert.deepEqual(await old.hashFiles(['src/sub/b.txt']), h);
    assert.equal(old.hashedFiles, 0);
    // A damaged entry is no hit: the file is hashed again.
    fs.writeFileSync(file, JSON.stringify({ version: 2, files: [['src/sub/b.txt', 1]] }));
    const damaged = await BuildContext.open(ctx, { statCacheFile: file });
    assert.deepEqual(await damaged.hashFiles(['src/sub/b.txt']), h);
    assert.equal(damaged.hashedFiles, 1);
  });
  it('hashes a few files on this thread and many in the pool, to the same sha256', async () => {
    const many = path.join(t.dir, 'many');
    fs.mkdirSync(many);
    const names: string[] = [];
    for (let i = 0; i < INLINE_HASH_FILES + 10; i++) {
      fs.writeFileSync(path.join(many, `f${i}`), `content ${i}\n`.repeat(i % 5));
      names.push(`f${i}`);
    }
    const sha = (n: string) => createHash('sha256').update(fs.readFileSync(path.join(many, n))).digest('hex');
    const few = await (await BuildContext.open(many)).hashFiles(names.slice(0, 3));
    assert.deepEqual([...few.values()], names.slice(0, 3).map(sha));
    const all = await BuildContext.open(many);
    const got = await all.hashFiles(names);
    assert.equal(all.hashedFiles, names.length);
    assert.deepEqual([...got.values()], names.map(sha));
  });
});
