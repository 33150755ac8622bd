// Names against a real registry: `pull --all-tags` takes every tag of a repository, and the
// registries config's short-name aliases are followed by every command that resolves a name to
// a registry image: pull (also --all-tags), push, run/create (--pull=missing|never), FROM.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, busyboxRoot, sandbox, type Sandbox } from './testing/fixtures.js';
import { registryAvailable, startRegistry, type TestRegistry } from './testing/registry-server.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;

describe('pull and push --all-tags and short-name aliases', { skip }, () => {
  let reg: TestRegistry;
  let sb: Sandbox;
  let src: string;

  before(async () => {
    reg = await startRegistry();
    sb = sandbox();
    src = await busyboxRoot(sb, 'src');
    // Two tags of one image and a third of another (an image of its own config: a label).
    for (const tag of ['1', '2']) {
      assert.equal(sb.strata(['tag', 'busybox', `${reg.host}/tags/bb:${tag}`], { root: src }).status, 0);
      const r = sb.strata(['push', '-q', `${reg.host}/tags/bb:${tag}`], { root: src });
      assert.equal(r.status, 0, r.stderr);
    }
  });
  after(async () => {
    await reg?.close();
    sb?.cleanup();
  });

  test('pull --all-tags pulls every tag; a tag with it is refused', () => {
    const root = sb.root('all');
    const r = sb.strata(['pull', '--all-tags', `${reg.host}/tags/bb`], { root });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.match(/^Digest: sha256:[a-f0-9]{64}$/gm)?.length, 2, r.stdout);
    assert.ok(r.stdout.endsWith(`${reg.host}/tags/bb\n`), r.stdout);
    const images = sb.strata(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
    assert.deepEqual(images.stdout.trim().split('\n').sort(), [`${reg.host}/tags/bb:1`, `${reg.host}/tags/bb:2`]);
    const q = sb.strata(['pull', '-a', '-q', `${reg.host}/tags/bb`], { root });
    assert.equal(q.stdout, `${reg.host}/tags/bb\n`, q.stderr);
    assertOneLineError(sb.strata(['pull', '-a', `${reg.host}/tags/bb:1`], { root }), /tag can't be used with --all-tags/);
    assertOneLineError(sb.strata(['pull', '-a', `${reg.host}/tags/none`], { root }), /tags of "127\.0\.0\.1:\d+\/tags\/none"/);
  });

  test('push --all-tags pushes every local tag of the repository, the repository said once; a tag with it is refused', () => {
    const repo = `${reg.host}/pushall/bb`;
    for (const tag of ['x', 'y']) assert.equal(sb.strata(['tag', 'busybox', `${repo}:${tag}`], { root: src }).status, 0);
    const r = sb.strata(['push', '--all-tags', repo], { root: src });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.match(/The push refers to repository/g)?.length, 1, r.stdout);
    assert.match(r.stdout, /^x: digest: sha256:[a-f0-9]{64} size: \d+\ny?/m);
    assert.match(r.stdout, /^y: digest: sha256:[a-f0-9]{64} size: \d+\n$/m);
    const root = sb.root('pushed-all');
    assert.equal(sb.strata(['pull', '-q', `${repo}:x`], { root }).status, 0);
    // y is new here though its layers are not: Docker's "Downloaded newer image" (the name changed), then up to date.
    const all = sb.strata(['pull', '-a', repo], { root });
    assert.equal(all.status, 0, all.stderr);
    assert.ok(all.stdout.endsWith(`Status: Downloaded newer image for ${repo}\n${repo}\n`), all.stdout);
    assert.ok(sb.strata(['pull', '-a', repo], { root }).stdout.endsWith(`Status: Image is up to date for ${repo}\n${repo}\n`));
    const images = sb.strata(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
    assert.deepEqual(images.stdout.trim().split('\n').sort(), [`${repo}:x`, `${repo}:y`]);
    assert.equal(sb.strata(['push', '-a', '-q', repo], { root: src }).stdout, `${repo}\n`);
    assertOneLineError(sb.strata(['push', '-a', `${repo}:x`], { root: src }), /tag can't be used with --all-tags/);
    assertOneLineError(sb.strata(['push', '-a', `${reg.host}/pushall/none`], { root: src }), /does not exist locally/);
  });

  test('an alias is followed by pull, pull -a, push, run, create --pull=never and FROM', () => {
    sb.writeRegistriesConfig({ aliases: { shorty: `${reg.host}/tags/bb` } });
    try {
      const pulled = sb.root('alias-pull');
      const p = sb.strata(['pull', '-q', 'shorty:1'], { root: pulled });
      assert.equal(p.stdout, `${reg.host}/tags/bb:1\n`, p.stderr);
      const all = sb.strata(['pull', '-a', '-q', 'shorty'], { root: pulled });
      assert.equal(all.stdout, `${reg.host}/tags/bb\n`, all.stderr);

      // run: pulled through the alias the first time; found locally through it the next (no pull, no "Unable to find").
      const ran = sb.root('alias-run');
      const first = sb.strata(['run', '--rm', 'shorty:2', 'echo', 'one'], { root: ran });
      assert.equal(first.stdout, 'one\n', first.stderr);
      assert.match(first.stderr, /Unable to find image 'shorty:2' locally/);
      const again = sb.strata(['run', '--rm', 'shorty:2', 'echo', 'two'], { root: ran });
      assert.equal(again.stdout, 'two\n', again.stderr);
      assert.doesNotMatch(again.stderr, /Unable to find image/);
      const never = sb.strata(['create', '--pull=never', 'shorty:2'], { root: ran });
      assert.equal(never.status, 0, never.stderr);
      assertOneLineError(sb.strata(['create', '--pull=never', 'shorty:1'], { root: ran }), /no such image/);

      // FROM through the alias, in a store that has not seen it.
      const ctx = path.join(sb.dir, 'alias-ctx');
      fs.mkdirSync(ctx, { recursive: true });
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM shorty:1\nRUN echo built > /built\n');
      const built = sb.root('alias-build');
      const b = sb.strata(['build', '-q', '-t', 'from-alias:1', ctx], { root: built });
      assert.equal(b.status, 0, b.stderr);
      const imgs = sb.strata(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root: built });
      assert.ok(imgs.stdout.includes(`${reg.host}/tags/bb:1`), imgs.stdout);

      // push: the alias names where it goes.
      assert.equal(sb.strata(['tag', 'busybox', 'shorty:3'], { root: src }).status, 0);
      const pushed = sb.strata(['push', '-q', 'shorty:3'], { root: src });
      assert.equal(pushed.stdout, `${reg.host}/tags/bb:3\n`, pushed.stderr);
      const tags = sb.strata(['pull', '-a', '-q', `${reg.host}/tags/bb`], { root: sb.root('alias-tags') });
      assert.equal(tags.status, 0, tags.stderr);
      const listed = sb.strata(['images', '--format', '{{.Tag}}'], { root: sb.root('alias-tags') });
      assert.deepEqual(listed.stdout.trim().split('\n').sort(), ['1', '2', '3']);
    } finally {
      sb.writeRegistriesConfig({});
    }
  });
});
