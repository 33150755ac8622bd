// RUN --mount=type=cache,from=STAGE|IMAGE,source=DIR (BuildKit's base of a cache mount): a new
// cache directory starts as a copy of DIR of that stage or image; from then on it is the cache's
// own (a later build's writes stay, the base is not copied again); the base's key is part of the
// step's key. Real builds: runc on overlayfs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/store.js';
import { ensureBusybox } from '../testing/busybox.js';
import { runStrata, tempDir } from '../testing/cli.js';

describe('RUN --mount=type=cache,from=', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  const build = (dockerfile: string, tag: string) => {
    const ctx = fs.mkdtempSync(path.join(t.dir, 'ctx-'));
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile);
    return runStrata(['build', '--progress', 'plain', '-t', tag, ctx], { root, timeoutMs: 180_000 });
  };
  const cat = (image: string, file: string) => runStrata(['run', '--rm', image, 'cat', file], { root }).stdout;

  before(async () => {
    t = tempDir('strata-cache-from-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
  });
  after(() => t.cleanup());

  const seedStage = (text: string) => `FROM busybox AS seed\nRUN mkdir -p /deps/sub && echo ${text} > /deps/a && echo deep > /deps/sub/b && ln -s /etc/hostname /deps/link\n`;

  it('starts a new cache dir as a copy of the stage\'s source dir, then keeps what steps write', () => {
    const first = build(`${seedStage('seeded')}FROM busybox\nRUN --mount=type=cache,target=/c,id=deps,from=seed,source=/deps cat /c/a /c/sub/b > /out && readlink /c/link >> /out && echo later > /c/written\n`, 'one');
    assert.equal(first.status, 0, first.stderr);
    assert.equal(cat('one', '/out'), 'seeded\ndeep\n/etc/hostname\n');
    // The same cache id again: the dir exists, so the step sees what the first wrote (and its
    // base's change does not reach it: a base is copied only into a new dir).
    const second = build(`${seedStage('changed')}FROM busybox\nRUN --mount=type=cache,target=/c,id=deps,from=seed,source=/deps cat /c/a /c/written > /out\n`, 'two');
    assert.equal(second.status, 0, second.stderr);
    assert.equal(cat('two', '/out'), 'seeded\nlater\n');
  });

  it('takes an image as the base, its root by default', () => {
    const r = build('FROM busybox\nRUN --mount=type=cache,target=/c,id=img,from=busybox ls /c/bin/busybox > /out\n', 'img');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(cat('img', '/out'), '/c/bin/busybox\n');
  });

  it('keys the step on the base: a changed stage runs it again', () => {
    const df = (text: string) => `${seedStage(text)}FROM busybox\nRUN --mount=type=cache,target=/c,id=keyed,from=seed,source=/deps echo ran > /out\n`;
    assert.equal(build(df('k1'), 'k').status, 0);
    const same = build(df('k1'), 'k');
    const keyedCached = /id=keyed,from=seed,source=\/deps echo ran > \/out\n#\d+ CACHED\n/;
    assert.match(same.stderr, keyedCached);
    const changed = build(df('k2'), 'k');
    assert.equal(changed.status, 0, changed.stderr);
    assert.doesNotMatch(changed.stderr, keyedCached);
    assert.match(changed.stderr, /id=keyed,from=seed,source=\/deps echo ran > \/out\n/, 'the step is in the output');
  });

  it('refuses a missing or non-directory source in one line, and from= on other mount types', () => {
    for (const [mount, message] of [
      ['type=cache,target=/c,id=missing,from=seed,source=/nope', 'mount source "/nope" not found in stage or image'],
      ['type=cache,target=/c,id=file,from=seed,source=/deps/a', 'mount source "/deps/a" of a cache mount is not a directory'],
      ['type=tmpfs,target=/c,from=seed', '--mount type=tmpfs,from= is not supported'],
    ]) {
      const r = build(`${seedStage('x')}FROM busybox\nRUN --mount=${mount} true\n`, 'bad');
      assert.equal(r.status, 1, r.stderr);
      assert.ok(r.stderr.includes(message), r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
