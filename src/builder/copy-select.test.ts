import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeHashPool } from '../hash/pool.js';
import { tempDir } from '../testing/cli.js';
import { cacheKey, canonicalJson, tableDigest, type KeyInputs } from './cache-key.js';
import { BuildContext } from './context.js';
import { selectionTable, selectSources, setLazyFiles } from './copy-select.js';

describe('a COPY selection as key input', () => {
  let t: ReturnType<typeof tempDir>;
  let ctx: string;
  before(() => {
    t = tempDir('strata-select-');
    ctx = path.join(t.dir, 'ctx');
    // Names that a depth-first walk and a sort of whole paths put in different orders ("a.txt" < "a/"),
    // and names JSON must escape.
    for (const d of ['a', 'a/b', 'a-z', 'a.d']) fs.mkdirSync(path.join(ctx, d), { recursive: true });
    for (const f of ['a/x', 'a/b/y', 'a.txt', 'a-z/1', 'a.d/2', 'a b', 'q"uote', 'back\\slash', 'tab\tname', 'é']) fs.writeFileSync(path.join(ctx, f), f);
    fs.symlinkSync('a.txt', path.join(ctx, 'link'));
    fs.chmodSync(path.join(ctx, 'a.txt'), 0o755);
  });
  after(async () => {
    await closeHashPool();
    t.cleanup();
  });

  it('hashes to the key of the table as an object (the canonical JSON of the recorded inputs)', async () => {
    const c = await BuildContext.open(ctx);
    // '.' and 'a' overlap: every path once, as in an object.
    const table = await selectionTable(c, await selectSources(c, ['.', 'a', 'link']));
    const files = table.record();
    assert.equal(files['a.txt'], `${c.hashOf('a.txt')} 755`);
    assert.equal(files['a/'], 'dir 755');
    assert.equal(files['link'], 'link -> a.txt');
    assert.equal(files['a/b/y'], `${c.hashOf('a/b/y')} 644`);
    assert.equal(table.digest, tableDigest(canonicalJson(files)));
    const inputs: KeyInputs = { type: 'COPY', parent: 'p', instruction: 'COPY . a link /d/' };
    assert.equal(cacheKey(inputs, table.digest), cacheKey({ ...inputs, files }));
  });

  it('records the table when read, and only then', async () => {
    const c = await BuildContext.open(ctx);
    const table = await selectionTable(c, await selectSources(c, ['a']));
    let made = 0;
    const counted = { ...table, record: () => (made++, table.record()) };
    const inputs: KeyInputs = { type: 'COPY', parent: 'p', instruction: 'COPY a /d/' };
    setLazyFiles(inputs, counted);
    assert.equal(made, 0);
    assert.deepEqual(JSON.parse(JSON.stringify(inputs)).files, table.record());
    assert.equal(inputs.files, inputs.files);
    assert.equal(made, 1);
    assert.equal(cacheKey(inputs), cacheKey({ type: 'COPY', parent: 'p', instruction: 'COPY a /d/' }, table.digest));
  });

  it('takes a known selection from the memo, and every change misses it', async () => {
    const dir = path.join(t.dir, 'memo');
    const statCacheFile = path.join(t.dir, 'state', 'memo-statcache.json');
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', 'a.txt'), 'aaaa');
    fs.writeFileSync(path.join(dir, 'src', 'b.txt'), 'bbbb');
    fs.symlinkSync('a.txt', path.join(dir, 'src', 'l'));
    const open = async () => {
      const c = await BuildContext.open(dir, { statCacheFile });
      const table = await selectionTable(c, await selectSources(c, ['src']));
      await c.saveStatCache();
      return { table, hashed: c.hashedFiles };
    };
    const first = await open();
    assert.equal(first.hashed, 2);
    assert.ok(fs.existsSync(statCacheFile.replace(/\.json$/, '.selections.json')), 'the memo is written beside the stat cache');
    // Unchanged: the memo's digest, and no stat cache read (it is removed: a read would rehash both).
    fs.rmSync(statCacheFile);
    const again = await open();
    assert.equal(again.table.digest, first.table.digest);
    assert.equal(again.hashed, 0);
    // The table is still there when a miss asks for it (the lost stat cache makes it hash again).
    assert.deepEqual(again.table.record(), first.table.record());
    const a = path.join(dir, 'src', 'a.txt');
    const changes: [string, () => void][] = [
      ['content, same size and mtime', () => {
        const st = fs.statSync(a);
        fs.writeFileSync(a, 'AAAA');
        fs.utimesSync(a, st.atime, st.mtime);
      }],
      ['mode', () => fs.chmodSync(a, 0o755)],
      ['rename', () => fs.renameSync(path.join(dir, 'src', 'b.txt'), path.join(dir, 'src', 'c.txt'))],
      ['added file', () => fs.writeFileSync(path.join(dir, 'src', 'd.txt'), 'd')],
      ['removed file', () => fs.rmSync(path.join(dir, 'src', 'd.txt'))],
      ['link target', () => {
        fs.rmSync(path.join(dir, 'src', 'l'));
        fs.symlinkSync('c.txt', path.join(dir, 'src', 'l'));
      }],
    ];
    let previous = first.table.digest;
    for (const [what, change] of changes) {
      change();
      const { table } = await open();
      assert.notEqual(table.digest, previous, `${what}: a new digest`);
      previous = table.digest;
      // The digest is the table's: what the memo gave equals what a fresh context computes.
      const fresh = await BuildContext.open(dir);
      assert.equal(table.digest, (await selectionTable(fresh, await selectSources(fresh, ['src']))).digest, what);
    }
  });
});
