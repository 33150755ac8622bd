// A RUN step that makes symlinks (to /dev/stdout as the official nginx image does, or to a
// host path with extended attributes) builds, and the layer carries the links' own attributes
// only: never those of whatever they point at on the host.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { strataCommand } from '../testing/cli.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('RUN ln -s in a build', () => {
  let fx: LifecycleFixture;
  let ctx: string;
  before(async () => {
    fx = await lifecycleFixture();
    ctx = fs.mkdtempSync(path.join(fx.root, 'ctx-'));
  });
  after(async () => fx.teardown());

  function build(tag: string, dockerfile: string): void {
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile);
    const r = fx.strata(['build', '-q', '-t', tag, ctx]);
    assert.equal(r.status, 0, r.stderr);
  }

  /** The image as `save` writes it, bytes (its layer tars inside, uncompressed). */
  function saved(tag: string): Buffer {
    const { command, args } = strataCommand();
    return spawnSync(command, [...args, 'save', tag], { env: { ...process.env, STRATA_ROOT: fx.root }, maxBuffer: 64 << 20 }).stdout;
  }

  it('builds links to /dev/stdout and /dev/stderr (nginx)', () => {
    build('links:nginx', 'FROM busybox\nRUN ln -s /dev/stdout /newlog\nRUN mkdir -p /var/log/nginx && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log\n');
    const r = fx.strata(['run', '--rm', 'links:nginx', 'sh', '-c', 'for l in /newlog /var/log/nginx/access.log /var/log/nginx/error.log; do readlink $l; done']);
    assert.equal(r.stdout, '/dev/stdout\n/dev/stdout\n/dev/stderr\n', r.stderr);
  });

  it("keeps a host file's user.* attributes out of a layer that links to it", () => {
    const hostFile = path.join(fx.root, 'host-file');
    fs.writeFileSync(hostFile, 'host\n');
    execFileSync('setfattr', ['-n', 'user.leak', '-v', 'from-the-host', hostFile]);
    build('links:host', `FROM busybox\nRUN ln -s ${hostFile} /hostlink && echo own > /own && ln /own /own.hard\n`);
    const tar = saved('links:host');
    assert.ok(tar.includes('hostlink'), 'the link is in the saved layer');
    assert.ok(!tar.includes('user.leak'), 'no attribute of the host file in the image');
    assert.equal(fx.strata(['run', '--rm', 'links:host', 'readlink', '/hostlink']).stdout, `${hostFile}\n`);
  });
});
