import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainMiss } from '../store/cache-explain.js';
import { cacheKey, canonicalJson, type KeyInputs } from './cache-key.js';

const base: KeyInputs = {
  type: 'COPY', parent: 'p1', instruction: 'COPY src/ /app/', args: { VERSION: '1' }, env: ['PATH=/bin'],
  files: { 'src/a.txt': 'h1 644', 'src/b.txt': 'h2 644', 'src/c.txt': 'h3 644' },
};

describe('cache keys', () => {
  it('are canonical: key order does not matter, every input does', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
    const reordered: KeyInputs = { files: base.files, env: base.env, args: base.args, instruction: base.instruction, parent: base.parent, type: base.type };
    assert.equal(cacheKey(reordered), cacheKey(base));
    assert.match(cacheKey(base), /^[0-9a-f]{64}$/);
    for (const change of [{ parent: 'p2' }, { instruction: 'COPY src/ /srv/' }, { args: { VERSION: '2' } }, { env: ['PATH=/usr/bin'] }, { files: { ...base.files, 'src/a.txt': 'h9 644' } }]) {
      assert.notEqual(cacheKey({ ...base, ...change }), cacheKey(base), JSON.stringify(change));
    }
  });

  it('explain a miss by the first input that differs', () => {
    assert.equal(explainMiss(base, undefined), 'no earlier build of this step');
    assert.equal(explainMiss({ ...base, parent: 'p2' }, base), 'parent step changed');
    assert.equal(explainMiss({ ...base, args: { VERSION: '2' } }, base), 'build arg VERSION changed');
    assert.equal(explainMiss({ ...base, env: ['PATH=/usr/bin'] }, base), 'env PATH changed');
    assert.equal(explainMiss({ ...base, instruction: 'COPY src/ /srv/' }, base), 'instruction changed (was: COPY src/ /app/)');
    // An arg declared only on one side names the miss of the same command, not of another command.
    assert.equal(explainMiss({ ...base, args: { VERSION: '1', X: '1' } }, base), 'build arg X changed');
    assert.equal(explainMiss({ ...base, args: {}, instruction: 'COPY src/ /srv/' }, base), 'instruction changed (was: COPY src/ /app/)');
    assert.equal(explainMiss({ ...base, args: { VERSION: '2' }, instruction: 'COPY src/ /srv/' }, base), 'build arg VERSION changed');
  });

  it('name the changed file and count the rest', () => {
    const one = { ...base, files: { ...base.files, 'src/b.txt': 'h9 644' } };
    assert.equal(explainMiss(one, base), 'src/b.txt changed');
    const many = { ...base, files: { 'src/a.txt': 'x 644', 'src/b.txt': 'y 644', 'src/c.txt': 'h3 644', 'src/d.txt': 'h4 644' } };
    assert.equal(explainMiss(many, base), 'src/a.txt changed (2 files changed, 1 added)');
    const gone = { ...base, files: { 'src/a.txt': 'h1 644' } };
    assert.equal(explainMiss(gone, base), 'src/b.txt removed (2 removed)');
    assert.equal(explainMiss({ ...base, files: { ...base.files, 'src/a.txt': 'h1 755' } }, base), 'src/a.txt mode changed (644 -> 755)');
    const renamed = { ...base, files: { 'src/a.txt': 'h1 644', 'src/b.txt': 'h2 644', 'src/z.txt': 'h3 644' } };
    assert.equal(explainMiss(renamed, base), 'src/c.txt renamed to src/z.txt');
    const relinked = { ...base, files: { ...base.files, 'src/l': 'link -> b.txt' } };
    assert.equal(explainMiss(relinked, { ...base, files: { ...base.files, 'src/l': 'link -> a.txt' } }), 'src/l target changed (a.txt -> b.txt)');
    assert.equal(explainMiss({ ...base, parent: 'image:2' }, { ...base, parent: 'image:1' }, { base: 'base image busybox' }), 'base image busybox changed');
    assert.equal(explainMiss({ ...base, instruction: 'RUN ["/bin/sh","-c","b"]' }, base, { step: 'RUN a' }), 'instruction changed (was: RUN a)');
  });
});
