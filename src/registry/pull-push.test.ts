// pull and push against Debian's docker-registry on 127.0.0.1 (plain http), and interop with
// skopeo and podman both ways. Every image here went through the real registry.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertOneLineError, busyboxRoot, sandbox, type Sandbox } from './testing/fixtures.js';
import { registryAvailable, startRegistry, type TestRegistry } from './testing/registry-server.js';

const skip = !registryAvailable || process.getuid?.() !== 0 ? 'needs docker-registry and root' : false;
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

describe('pull and push with a real registry', { skip }, () => {
  let reg: TestRegistry;
  let sb: Sandbox;
  let src: string;
  let pushedDigest: string;

  before(async () => {
    reg = await startRegistry();
    sb = sandbox();
    src = await busyboxRoot(sb, 'src');
  });
  after(async () => {
    await reg?.close();
    sb?.cleanup();
  });

  test('push prints the digest and size; a second push sends nothing and gives the same digest', () => {
    const name = `${reg.host}/lib/busybox:1`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    const first = sb.strata(['push', name], { root: src });
    assert.equal(first.status, 0, first.stderr);
    const m = /1: digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(first.stdout);
    assert.ok(m, first.stdout);
    pushedDigest = m[1];
    assert.match(first.stdout, /The push refers to repository \[127\.0\.0\.1:\d+\/lib\/busybox\]/);
    const again = sb.strata(['push', name], { root: src });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /Layer already exists/);
    assert.ok(again.stdout.includes(`digest: ${pushedDigest}`), 'the same layer compresses to the same bytes');
    if (has('skopeo')) {
      const info = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`]).toString()) as { Digest: string };
      assert.equal(info.Digest, pushedDigest);
    }
  });

  test('a name without tag: "Using default tag: latest" first, as Docker\'s CLI says it (not with -q)', () => {
    const name = `${reg.host}/lib/plain`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    const pushed = sb.strata(['push', name], { root: src });
    assert.equal(pushed.status, 0, pushed.stderr);
    assert.ok(pushed.stdout.startsWith(`Using default tag: latest\nThe push refers to repository [${name}]\n`), pushed.stdout);
    assert.equal(sb.strata(['push', '-q', name], { root: src }).stdout, `${name}:latest\n`);
    const root = sb.root('default-tag');
    const pulled = sb.strata(['pull', name], { root });
    assert.equal(pulled.status, 0, pulled.stderr);
    assert.ok(pulled.stdout.startsWith('Using default tag: latest\nlatest: Pulling from lib/plain\n'), pulled.stdout);
    assert.ok(pulled.stdout.endsWith(`Status: Downloaded newer image for ${name}:latest\n${name}:latest\n`), pulled.stdout);
    assert.equal(sb.strata(['pull', '-q', name], { root }).stdout, `${name}:latest\n`);
  });

  test('pull into an empty store; run it; by digest; digests shown by images and inspect', () => {
    const root = sb.root('pull');
    const name = `${reg.host}/lib/busybox:1`;
    const r = sb.strata(['pull', name], { root });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Pull complete/);
    assert.ok(r.stdout.includes(`Digest: ${pushedDigest}`));
    assert.ok(r.stdout.trim().endsWith(name));
    // Kept packed (the registry's blob, verified) until something needs its files.
    const layerFiles = () => fs.readdirSync(path.join(root, 'layers')).filter((n) => !n.startsWith('.'));
    assert.deepEqual(layerFiles().map((n) => n.replace(/^[a-f0-9]{64}/, 'HEX')), ['HEX.packed']);
    // The kept blobs are the bytes their digests name (the download's writes, batched while one is under way, land in order).
    const blobs = path.join(root, 'blobs', 'sha256');
    for (const hex of fs.readdirSync(blobs)) assert.equal(createHash('sha256').update(fs.readFileSync(path.join(blobs, hex))).digest('hex'), hex);
    const run = sb.strata(['run', '--rm', name, 'sh', '-c', 'echo pulled && md5sum /bin/busybox'], { root });
    const [said, sum] = run.stdout.split(/(?<=\n)/);
    assert.equal(said, 'pulled\n', run.stderr);
    assert.deepEqual(layerFiles().map((n) => n.replace(/^[a-f0-9]{64}/, 'HEX')).sort(), ['HEX', 'HEX.tar-split'], 'unpacked by its first run');
    assert.equal(sum, sb.strata(['run', '--rm', name, 'md5sum', '/bin/busybox'], { root: src }).stdout, 'the unpacked layer is the pushed one');
    const again = sb.strata(['pull', '-q', name], { root });
    assert.equal(again.stdout, `${name}\n`);
    const byDigest = sb.strata(['pull', `${reg.host}/lib/busybox@${pushedDigest}`], { root: sb.root('bydigest') });
    assert.equal(byDigest.status, 0, byDigest.stderr);
    const images = sb.strata(['images', '--digests', '--format', '{{.Repository}} {{.Digest}}'], { root });
    assert.ok(images.stdout.includes(`${reg.host}/lib/busybox ${pushedDigest}`), images.stdout);
    const inspect = sb.strata(['image', 'inspect', '--format', '{{json .RepoDigests}}', name], { root });
    assert.ok(inspect.stdout.includes(`${reg.host}/lib/busybox@${pushedDigest}`), inspect.stdout);
    // The pulled image keeps the registry's bytes: pushing it elsewhere keeps its digest, and
    // its layer is mounted from the repository it came from instead of uploaded.
    const other = `${reg.host}/copies/bb:2`;
    assert.equal(sb.strata(['tag', name, other], { root }).status, 0);
    const p = sb.strata(['push', other], { root });
    assert.equal(p.status, 0, p.stderr);
    assert.ok(p.stdout.includes(`digest: ${pushedDigest}`), p.stdout);
    assert.match(p.stdout, /Mounted from lib\/busybox/);
  });

  test('digest references: rmi untags one; the last tag of a repository takes its digests along; pulled by digest alone is listed, not dangling (Docker\'s)', () => {
    const root = sb.root('rmi-digest');
    const name = `${reg.host}/lib/busybox:1`;
    const byDigest = `${reg.host}/lib/busybox@${pushedDigest}`;
    const other = `${reg.host}/elsewhere/bb:2`;
    const digestsOf = (ref: string) => sb.strata(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref], { root }).stdout.trim();
    assert.equal(sb.strata(['pull', '-q', name], { root }).status, 0);
    assert.equal(sb.strata(['tag', name, other], { root }).status, 0);
    // The image has tags too: only the digest reference goes (was: a conflict, exit 1).
    const r = sb.strata(['rmi', byDigest], { root });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `Untagged: ${byDigest}\n`);
    assert.equal(digestsOf(name), '[]');
    // Pulled again: the repository's last tag untagged takes its digest with it.
    assert.equal(sb.strata(['pull', '-q', name], { root }).status, 0);
    const untag = sb.strata(['rmi', name], { root });
    assert.equal(untag.status, 0, untag.stderr);
    assert.equal(untag.stdout, `Untagged: ${name}\nUntagged: ${byDigest}\n`);
    assert.equal(digestsOf(other), '[]');
    assert.equal(sb.strata(['rmi', other], { root }).status, 0);
    // Pulled by digest alone: listed under its repository, not dangling, kept by image prune;
    // a tag given and removed leaves it; rmi by that digest deletes it, as Docker says it.
    assert.equal(sb.strata(['pull', '-q', byDigest], { root }).status, 0);
    const listed = () => sb.strata(['images', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}'], { root }).stdout;
    assert.equal(listed(), `${reg.host}/lib/busybox <none> ${pushedDigest}\n`);
    assert.equal(sb.strata(['images', '-q', '--filter', 'dangling=true'], { root }).stdout, '');
    const prune = sb.strata(['image', 'prune', '-f'], { root });
    assert.equal(prune.stdout, 'Total reclaimed space: 0B\n', 'not dangling: kept');
    assert.equal(sb.strata(['tag', byDigest, 'mine:1'], { root }).status, 0);
    assert.equal(sb.strata(['rmi', 'mine:1'], { root }).stdout, 'Untagged: mine:1\n');
    assert.equal(listed(), `${reg.host}/lib/busybox <none> ${pushedDigest}\n`);
    // An image built on it: the base stays listed (no intermediate image), and stays when the child goes.
    const ctx = path.join(sb.dir, 'ctx-digest');
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${byDigest}\nRUN echo child > /child\n`);
    assert.equal(sb.strata(['build', '-q', '-t', 'child:1', ctx], { root }).status, 0);
    assert.equal(listed(), `child 1 <none>\n${reg.host}/lib/busybox <none> ${pushedDigest}\n`);
    const child = sb.strata(['rmi', 'child:1'], { root });
    assert.equal(child.stdout.match(/^Deleted: /gm)?.length, 1, child.stdout);
    assert.equal(listed(), `${reg.host}/lib/busybox <none> ${pushedDigest}\n`);
    const del = sb.strata(['rmi', byDigest], { root });
    assert.equal(del.status, 0, del.stderr);
    assert.match(del.stdout, new RegExp(`^Untagged: ${byDigest.replace(/[.]/g, '\\.')}\nDeleted: sha256:[a-f0-9]{64}\n$`));
  });

  test('a pulled image has the sizes of the pushed one (uncompressed, as docker shows them), packed or not', () => {
    const root = sb.root('sizes');
    const name = `${reg.host}/lib/busybox:1`;
    const sizes = (r: string, ref: string) => ({
      images: sb.strata(['images', '--format', '{{.Size}}', ref], { root: r }).stdout,
      inspect: sb.strata(['image', 'inspect', '--format', '{{.Size}}', ref], { root: r }).stdout,
      history: sb.strata(['history', '--format', '{{.Size}}', ref], { root: r }).stdout,
    });
    const pushed = sizes(src, 'busybox');
    assert.ok(Number(pushed.inspect) > 1_000_000, pushed.inspect);
    assert.equal(sb.strata(['pull', '-q', name], { root }).status, 0);
    assert.deepEqual(sizes(root, name), pushed, 'kept packed (compressed in its blob)');
    assert.equal(sb.strata(['run', '--rm', name, 'true'], { root }).status, 0);
    assert.deepEqual(sizes(root, name), pushed, 'unpacked by a run');
    const ps = sb.strata(['create', '--name', 'sized', name], { root });
    assert.equal(ps.status, 0, ps.stderr);
    assert.match(sb.strata(['ps', '-a', '-s', '--format', '{{.Size}}'], { root }).stdout, new RegExp(`\\(virtual ${pushed.images.trim().replace('.', '\\.')}\\)`));
  });

  test('a build FROM an image only the registry has pulls it; run --pull decides when to pull', () => {
    const root = sb.root('build');
    const ctx = path.join(sb.dir, 'ctx');
    fs.mkdirSync(ctx, { recursive: true });
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${reg.host}/lib/busybox:1\nRUN echo built > /built\n`);
    const b = sb.strata(['build', '-q', '-t', 'built:1', ctx], { root });
    assert.equal(b.status, 0, b.stderr);
    assert.equal(sb.strata(['run', '--rm', 'built:1', 'cat', '/built'], { root }).stdout, 'built\n');
    // A packed layer first used by a build: COPY --from reads it, a RUN runs on it.
    const lazy = sb.root('build-lazy');
    assert.equal(sb.strata(['pull', '-q', `${reg.host}/lib/busybox:1`], { root: lazy }).status, 0);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM scratch AS copy\nCOPY --from=${reg.host}/lib/busybox:1 /bin/busybox /copied\nFROM ${reg.host}/lib/busybox:1\nCOPY --from=copy /copied /copied\nRUN md5sum /bin/busybox | cut -d' ' -f1 > /sum && cmp /bin/busybox /copied\n`);
    const lb = sb.strata(['build', '-q', '-t', 'lazy:1', ctx], { root: lazy });
    assert.equal(lb.status, 0, lb.stderr);
    const want = sb.strata(['run', '--rm', 'busybox', 'md5sum', '/bin/busybox'], { root: src }).stdout.split(' ')[0];
    assert.equal(sb.strata(['run', '--rm', 'lazy:1', 'cat', '/sum'], { root: lazy }).stdout, `${want}\n`);
    const fresh = sb.root('runpull');
    const never = sb.strata(['run', '--rm', '--pull=never', `${reg.host}/lib/busybox:1`, 'true'], { root: fresh });
    assert.notEqual(never.status, 0);
    assert.match(never.stderr, /no such image/);
    const missing = sb.strata(['run', '--rm', `${reg.host}/lib/busybox:1`, 'echo', 'ok'], { root: fresh });
    assert.equal(missing.stdout.trim().split('\n').pop(), 'ok', missing.stderr);
    // Docker's lines on stderr: the name as pulled, the pull's progress, its digest and status.
    assert.ok(missing.stderr.startsWith(`Unable to find image '${reg.host}/lib/busybox:1' locally\n1: Pulling from lib/busybox\n`), missing.stderr);
    assert.ok(missing.stderr.endsWith(`Digest: ${pushedDigest}\nStatus: Downloaded newer image for ${reg.host}/lib/busybox:1\n`), missing.stderr);
    const always = sb.strata(['create', '--pull=always', `${reg.host}/lib/busybox:1`], { root: fresh });
    assert.equal(always.status, 0, always.stderr);
    assert.equal(always.stderr, `1: Pulling from lib/busybox\nDigest: ${pushedDigest}\nStatus: Image is up to date for ${reg.host}/lib/busybox:1\n`);
    const byDefault = sb.strata(['run', '--rm', `${reg.host}/lib/plain`, 'true'], { root: fresh });
    assert.equal(byDefault.status, 0, byDefault.stderr);
    assert.ok(byDefault.stderr.startsWith(`Unable to find image '${reg.host}/lib/plain:latest' locally\n`), byDefault.stderr);
    // FROM name@digest: verified against the registry's bytes.
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${reg.host}/lib/busybox@${pushedDigest}\nRUN true\n`);
    const d = sb.strata(['build', '-q', ctx], { root: sb.root('bydigest-build') });
    assert.equal(d.status, 0, d.stderr);
  });

  test('images of two platforms pushed as one index; a pull takes the platform asked for', () => {
    const tar = path.join(sb.dir, 'arm.tar');
    fs.writeFileSync(path.join(sb.dir, 'arm.txt'), 'arm64\n');
    execFileSync('tar', ['-cf', tar, '-C', sb.dir, 'arm.txt']);
    const imp = sb.strata(['import', '--platform', 'linux/arm64', tar, 'local/arm:1'], { root: src });
    assert.equal(imp.status, 0, imp.stderr);
    const name = `${reg.host}/multi/app:1`;
    const p = sb.strata(['push', '--index-of', 'busybox', '--index-of', 'local/arm:1', name], { root: src });
    assert.equal(p.status, 0, p.stderr);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(p.stdout)![1];
    if (has('skopeo')) {
      const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${name}`]).toString()) as { mediaType: string; manifests: { platform: { architecture: string } }[] };
      assert.equal(raw.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.deepEqual(raw.manifests.map((m) => m.platform.architecture).sort(), ['amd64', 'arm64'].sort());
    }
    const root = sb.root('multi');
    const arm = sb.strata(['pull', '--platform', 'linux/arm64', name], { root });
    assert.equal(arm.status, 0, arm.stderr);
    assert.ok(arm.stdout.includes(`Digest: ${digest}`), 'the digest shown is the index\'s');
    const inspect = sb.strata(['image', 'inspect', '--format', '{{.Architecture}} {{json .RepoDigests}}', name], { root });
    assert.ok(inspect.stdout.startsWith('arm64 ') && inspect.stdout.includes(digest), inspect.stdout);
    assertOneLineError(sb.strata(['pull', '--platform', 'linux/s390x', name], { root }), /no image for platform "linux\/s390x"/);
    assert.doesNotMatch(arm.stdout, /WARNING/);
    // A single-platform image of another platform is pulled all the same, with Docker's warning after the status.
    const single = `${reg.host}/single/arm:1`;
    assert.equal(sb.strata(['tag', 'local/arm:1', single], { root: src }).status, 0);
    assert.equal(sb.strata(['push', '-q', single], { root: src }).status, 0);
    const other = sb.strata(['pull', '--platform', 'linux/s390x', single], { root });
    assert.equal(other.status, 0, other.stderr);
    assert.ok(other.stdout.endsWith(`Status: Downloaded newer image for ${single}\nWARNING: image with reference ${reg.host}/single/arm was found but does not match the specified platform: wanted linux/s390x, actual: linux/arm64\n${single}\n`), other.stdout);
  });

  test('manifest inspect shows the manifest and the index as the registry serves them (skopeo --raw), and Docker\'s verbose form', () => {
    const one = `${reg.host}/lib/busybox:1`;
    const multi = `${reg.host}/multi/app:1`;
    const root = sb.root('manifest');
    const shown = sb.strata(['manifest', 'inspect', one], { root });
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /^{\n\t"schemaVersion": 2,\n/);
    if (has('skopeo')) {
      const raw = (n: string) => JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${n}`]).toString());
      assert.deepEqual(JSON.parse(shown.stdout), raw(one));
      assert.deepEqual(JSON.parse(sb.strata(['manifest', 'inspect', multi], { root }).stdout), raw(multi));
    }
    const verbose = JSON.parse(sb.strata(['manifest', 'inspect', '-v', one], { root }).stdout) as { Ref: string; Descriptor: { digest: string }; Raw: string; OCIManifest?: unknown; SchemaV2Manifest?: unknown };
    assert.equal(verbose.Ref, one);
    assert.equal(verbose.Descriptor.digest, pushedDigest);
    assert.equal(`sha256:${createHash('sha256').update(Buffer.from(verbose.Raw, 'base64')).digest('hex')}`, pushedDigest);
    assert.ok(verbose.OCIManifest ?? verbose.SchemaV2Manifest);
    const list = JSON.parse(sb.strata(['manifest', 'inspect', '--verbose', multi], { root }).stdout) as Array<{ Ref: string; Descriptor: { digest: string; platform: { architecture: string } } }>;
    assert.deepEqual(list.map((e) => e.Descriptor.platform.architecture).sort(), ['amd64', 'arm64']);
    for (const e of list) assert.equal(e.Ref, `${reg.host}/multi/app@${e.Descriptor.digest}`);
    assertOneLineError(sb.strata(['manifest', 'inspect', `${reg.host}/lib/nosuch:1`], { root }), new RegExp(`^Error: no such manifest: ${reg.host}/lib/nosuch:1$`));
  });

  test('docker.io names go to the configured mirror', () => {
    const root = sb.root('mirror');
    assert.equal(sb.strata(['tag', 'busybox', `${reg.host}/library/busybox:latest`], { root: src }).status, 0);
    assert.equal(sb.strata(['push', '-q', `${reg.host}/library/busybox:latest`], { root: src }).status, 0);
    sb.writeRegistriesConfig({ mirrors: { 'docker.io': [reg.host] }, blocked: ['docker.io'] });
    try {
      const r = sb.strata(['pull', 'busybox'], { root });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /docker\.io\/library\/busybox:latest\n$/);
      assert.equal(sb.strata(['run', '--rm', 'busybox', 'echo', 'hub'], { root }).stdout, 'hub\n');
      const blocked = sb.strata(['push', 'busybox'], { root });
      assertOneLineError(blocked, /registry "docker\.io" is blocked/);
    } finally {
      sb.writeRegistriesConfig({});
    }
  });

  test('skopeo copy → strata pull → strata run; a zstd image too', { skip: !has('skopeo') }, () => {
    const archive = path.join(sb.dir, 'busybox.oci.tar');
    assert.equal(sb.strata(['save', '--format', 'oci-archive', '-o', archive, 'busybox'], { root: src }).status, 0);
    for (const [tag, extra] of [['gz', []], ['zst', ['--dest-compress-format', 'zstd', '--dest-compress']]] as const) {
      const name = `${reg.host}/from-skopeo:${tag}`;
      execFileSync('skopeo', ['copy', '--dest-tls-verify=false', ...extra, `oci-archive:${archive}`, `docker://${name}`], { stdio: 'pipe' });
      const root = sb.root(`skopeo-${tag}`);
      const r = sb.strata(['pull', name], { root });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(sb.strata(['run', '--rm', name, 'echo', tag], { root }).stdout, `${tag}\n`);
    }
  });

  test('strata push → podman pull → podman run', { skip: !has('podman') }, () => {
    const name = `${reg.host}/for-podman:1`;
    assert.equal(sb.strata(['tag', 'busybox', name], { root: src }).status, 0);
    assert.equal(sb.strata(['push', name], { root: src }).status, 0);
    const store = ['--root', path.join(sb.dir, 'podman-root'), '--runroot', path.join(sb.dir, 'podman-run')];
    try {
      execFileSync('podman', [...store, 'pull', '--tls-verify=false', name], { stdio: 'pipe' });
      let out = '';
      for (let i = 0; i < 3 && out !== 'from podman\n'; i++) {
        out = spawnSync('podman', [...store, 'run', '--rm', '--network=none', name, 'echo', 'from podman']).stdout.toString();
      }
      assert.equal(out, 'from podman\n');
    } finally {
      spawnSync('podman', [...store, 'rmi', '-af']);
    }
  });
});
