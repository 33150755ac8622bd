// `build --output` end to end with the real CLI: the filesystem into a directory and as a tar
// (hard links and owners kept), oci and docker archives that skopeo/podman and `load` read,
// and type=image,push=true into Debian's docker-registry on 127.0.0.1.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar';
import { startRegistry, registryAvailable, type TestRegistry } from '../registry/testing/registry-server.js';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir } from '../testing/cli.js';

const DOCKERFILE = `FROM busybox AS build
RUN mkdir -p /out/sub && echo linked > /out/a && ln /out/a /out/sub/b && chown 7:8 /out/a && chmod 640 /out/a && ln -s a /out/sym
FROM scratch
COPY --from=build /out /
`;
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe('build --output', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;

  before(async () => {
    t = tempDir('strata-output-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), DOCKERFILE);
  });
  after(() => t.cleanup());

  const build = (...flags: string[]) => runStrata(['build', '-q', ...flags, ctx], { root, timeoutMs: 120_000 });

  it('type=local writes the filesystem into a directory (a bare path too), owners and hard links kept', () => {
    const dest = path.join(t.dir, 'local');
    const res = build('--output', `type=local,dest=${dest}`);
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(fs.readdirSync(dest).sort(), ['a', 'sub', 'sym']);
    const a = fs.lstatSync(path.join(dest, 'a'));
    assert.deepEqual([a.uid, a.gid, a.mode & 0o777, a.nlink], [7, 8, 0o640, 2]);
    assert.equal(fs.lstatSync(path.join(dest, 'sub', 'b')).ino, a.ino);
    assert.equal(fs.readlinkSync(path.join(dest, 'sym')), 'a');
    // A destination holding links from before (an earlier export, a user's) is written inside
    // itself: nothing goes through a link to outside.
    const outside = path.join(t.dir, 'outside');
    fs.mkdirSync(outside);
    const again = path.join(t.dir, 'local-again');
    fs.mkdirSync(again);
    fs.symlinkSync(outside, path.join(again, 'sub'));
    fs.symlinkSync(path.join(outside, 'a'), path.join(again, 'a'));
    const res2 = build('--output', `type=local,dest=${again}`);
    assert.equal(res2.status, 0, res2.stderr);
    assert.deepEqual(fs.readdirSync(outside), []);
    assert.ok(fs.lstatSync(path.join(again, 'sub')).isDirectory());
    assert.equal(fs.readFileSync(path.join(again, 'sub', 'b'), 'utf8'), 'linked\n');
    assert.ok(fs.lstatSync(path.join(again, 'a')).isFile());
    const bare = path.join(t.dir, 'bare');
    assert.equal(build('-o', bare).status, 0);
    assert.equal(fs.readFileSync(path.join(bare, 'sub', 'b'), 'utf8'), 'linked\n');
  });

  it('type=tar writes the filesystem as a tar, to a file or to stdout with -o -', async () => {
    const file = path.join(t.dir, 'fs.tar');
    const res = build('-o', `type=tar,dest=${file}`);
    assert.equal(res.status, 0, res.stderr);
    const seen: Record<string, string> = {};
    await tar.t({ file, onReadEntry: (e) => { seen[e.path] = `${e.type} ${e.uid}:${e.gid} ${(e.mode ?? 0).toString(8)} ${e.linkpath ?? ''}`; } });
    assert.deepEqual(seen, { 'a': 'File 7:8 640 ', 'sub/': 'Directory 0:0 755 ', 'sym': 'SymbolicLink 0:0 777 a', 'sub/b': 'Link 7:8 640 a' });
    const piped = build('-o', '-');
    assert.equal(piped.status, 0, piped.stderr);
    assert.ok(piped.stdout.length > 1024 && piped.stdout.slice(0, 2) === 'a\0', 'stdout holds the tar and nothing else');
  });

  it('type=oci and type=docker write archives that skopeo and load read', { skip: has('skopeo') ? false : 'skopeo is not installed' }, () => {
    const oci = path.join(t.dir, 'img-oci.tar');
    const docker = path.join(t.dir, 'img-docker.tar');
    const res = build('-t', 'out:tagged', '-o', `type=oci,dest=${oci}`, '-o', `type=docker,dest=${docker},name=named/out:v1`);
    assert.equal(res.status, 0, res.stderr);
    const id = runStrata(['images', '-q', '--no-trunc', 'out:tagged'], { root }).stdout.trim();
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci-archive:${oci}`]).toString()) as { rootfs: { diff_ids: string[] } };
    assert.equal(inspect.rootfs.diff_ids.length, 1);
    const other = path.join(t.dir, 'other-root');
    const loaded = runStrata(['load', '-i', docker], { root: other });
    assert.equal(loaded.status, 0, loaded.stderr);
    assert.match(loaded.stdout, /Loaded image: named\/out:v1/);
    assert.equal(runStrata(['images', '-q', '--no-trunc', 'named/out:v1'], { root: other }).stdout.trim(), id);
    // tar=false: an OCI layout directory.
    const layout = path.join(t.dir, 'layout');
    assert.equal(build('-o', `type=oci,dest=${layout},tar=false`).status, 0);
    const viaDir = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `oci:${layout}`]).toString()) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(viaDir.rootfs.diff_ids, inspect.rootfs.diff_ids);
    // An archive needs a destination other than a terminal; a type it does not know is one line.
    const bad = build('-o', 'type=oci');
    assert.equal(bad.status, 125);
    assert.match(bad.stderr, /^Error: output type=oci requires dest=FILE/m);
    const unknown = build('-o', 'type=zip,dest=x');
    assert.equal(unknown.status, 125);
    assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
    assert.match(unknown.stderr, /unknown type "zip"/);
  });

  describe('type=image,push=true', { skip: registryAvailable && process.getuid?.() === 0 ? false : 'needs docker-registry and root' }, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startRegistry();
    });
    after(async () => reg?.close());

    it('names the image and pushes it (and --push the -t names)', () => {
      const name = `${reg.host}/built/out:v1`;
      const res = build('-o', `type=image,name=${name},push=true`);
      assert.equal(res.status, 0, res.stderr);
      const pulled = runStrata(['pull', name], { root: path.join(t.dir, 'puller') });
      assert.equal(pulled.status, 0, pulled.stderr);
      const ran = runStrata(['images', '-q', '--no-trunc', name], { root });
      assert.equal(ran.stdout.trim(), runStrata(['images', '-q', '--no-trunc', name], { root: path.join(t.dir, 'puller') }).stdout.trim());
      const second = `${reg.host}/built/pushed:v2`;
      assert.equal(build('-t', second, '--push').status, 0);
      const tags = JSON.parse(execFileSync('curl', ['-sf', `${reg.url}/v2/built/pushed/tags/list`]).toString()) as { tags: string[] };
      assert.deepEqual(tags.tags, ['v2']);
    });
  });
});
