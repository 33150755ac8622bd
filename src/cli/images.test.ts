// End to end through the real CLI, each test with its own STRATA_ROOT: setup, import, images,
// tag, history, inspect, rmi, save/load (also via podman and skopeo), concurrency, kill -9.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runStrata, spawnStrata, strataCommand, tempDir } from '../testing/cli.js';
import { buildTar } from '../store/tar/build.js';
import { closeHashPool } from '../hash/pool.js';
import { openStore } from '../store/store.js';
import { ensureBusybox } from '../testing/busybox.js';
import { readIndex, REF_NAME } from '../store/index-file.js';

after(closeHashPool);

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function ok(r: { status: number; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

function withRoot(fn: (root: string, scratch: string) => Promise<void> | void) {
  return async () => {
    const t = tempDir();
    const root = path.join(t.dir, 'root');
    try {
      await fn(root, t.dir);
    } finally {
      t.cleanup();
    }
  };
}

const helloTar = () => buildTar([
  { path: 'hello/', type: 'dir' },
  { path: 'hello/world.txt', content: 'hello from strata\n' },
  { path: 'bin', type: 'symlink', linkpath: 'usr/bin' },
]);

test('setup creates busybox:latest deterministically and is idempotent', withRoot((root, scratch) => {
  const first = ok(runStrata(['setup', '--no-install'], { root }), 'setup');
  assert.match(first, /busybox:latest\s+created \(([a-f0-9]{12})\)/);
  const id = /created \(([a-f0-9]{12})\)/.exec(first)![1];
  assert.match(ok(runStrata(['setup', '--no-install'], { root }), 'setup again'), new RegExp(`present \\(${id}\\)`));
  const other = path.join(scratch, 'other');
  assert.match(ok(runStrata(['setup', '--no-install'], { root: other }), 'setup elsewhere'), new RegExp(`created \\(${id}\\)`), 'same image ID');
  const rows = ok(runStrata(['images'], { root }), 'images').split('\n');
  assert.match(rows[0], /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.match(rows[1], new RegExp(`^busybox\\s+latest\\s+${id}\\s+\\d+ (?:years|months|weeks|days) ago\\s+\\d\\.\\d+MB$`));
  const hist = ok(runStrata(['history', 'busybox'], { root }), 'history').split('\n');
  assert.match(hist[0], /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  assert.match(hist[1], new RegExp(`^${id}\\s+.*CMD \\["sh"\\]\\s+0B`));
  assert.match(hist[2], /^<missing>\s+.*ADD file:busybox-static in…\s+\d\.\d+MB/);
}));

test('import, images, tag, history, inspect, rmi: the image workflow', withRoot((root, scratch) => {
  const tarball = path.join(scratch, 'hello.tar');
  fs.writeFileSync(tarball, helloTar());
  const id = ok(runStrata(['import', '-m', 'first import', '-c', 'CMD ["cat", "/hello/world.txt"]', '-c', 'LABEL tier=web', tarball, 'hello:1'], { root }), 'import').trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const short = id.slice(7, 19);
  // stdin import, without a name: a dangling image
  const id2 = ok(runStrata(['import', '-'], { root, input: helloTar() }), 'import -').trim();
  assert.match(ok(runStrata(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { root }), 'images'), new RegExp(`hello:1 ${short}`));
  assert.match(ok(runStrata(['images', '--filter', 'dangling=true', '-q'], { root }), 'dangling'), new RegExp(id2.slice(7, 19)));
  assert.equal(ok(runStrata(['images', '-q', '--filter', 'label=tier=web'], { root }), 'label filter'), `${short}\n`);
  ok(runStrata(['tag', 'hello:1', 'localhost/hello:2'], { root }), 'tag');
  // reference values are alternatives, as Docker's (each narrowed the rows: none was left)
  const either = ok(runStrata(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=hello:1', '--filter', 'reference=localhost/hello'], { root }), 'references');
  assert.deepEqual(either.split('\n').filter(Boolean).sort(), ['hello:1', 'localhost/hello:2']);
  assert.equal(runStrata(['images', '--filter', 'dangling=maybe'], { root }).stderr, 'Error: invalid filter "dangling=maybe": expected true or false\n');
  const json = ok(runStrata(['images', '--format', '{{json .}}', 'localhost/hello'], { root }), 'images json');
  const row = JSON.parse(json.trim().split('\n')[0]);
  assert.equal(row.Repository, 'localhost/hello');
  assert.equal(row.Tag, '2');
  assert.equal(row.ID, short);
  const hist = ok(runStrata(['history', '--no-trunc', 'hello:1'], { root }), 'history');
  assert.match(hist, new RegExp(`^${id}\\s+.*first import`, 'm'));
  const [info] = JSON.parse(ok(runStrata(['image', 'inspect', 'hello:1'], { root }), 'inspect'));
  assert.equal(info.Id, id);
  assert.deepEqual(info.RepoTags, ['hello:1', 'localhost/hello:2']);
  assert.deepEqual(info.Config.Cmd, ['cat', '/hello/world.txt']);
  assert.equal(info.Os, 'linux');
  assert.equal(info.RootFS.Type, 'layers');
  assert.equal(info.RootFS.Layers.length, 1);
  assert.equal(ok(runStrata(['inspect', '-f', '{{.Id}} {{json .RepoTags}}', 'hello:1'], { root }), 'inspect -f').trim(), `${id} ["hello:1","localhost/hello:2"]`);
  // rmi: one of two names only untags; the last name deletes; a missing image exits 1
  assert.equal(ok(runStrata(['rmi', 'hello:1'], { root }), 'rmi').trim(), 'Untagged: hello:1');
  const rmi = runStrata(['rmi', 'localhost/hello:2', 'nope'], { root });
  assert.equal(rmi.status, 1);
  assert.match(rmi.stdout, new RegExp(`Untagged: localhost/hello:2\nDeleted: ${id}`));
  assert.match(rmi.stderr, /no such image: "nope"/);
  assert.equal(runStrata(['inspect', id], { root }).status, 1);
  // prune removes the dangling import
  assert.match(ok(runStrata(['image', 'prune', '-f'], { root }), 'prune'), new RegExp(`deleted: ${id2}[\\s\\S]*Total reclaimed space: `));
  assert.equal(ok(runStrata(['images', '-q'], { root }), 'images -q'), '');
  const store = fs.readdirSync(path.join(root, 'blobs', 'sha256'));
  assert.deepEqual(store, [], 'every blob collected');
}));

test('a hostile tarball is refused by import with nothing written outside', withRoot((root, scratch) => {
  const outside = path.join(scratch, 'outside');
  fs.mkdirSync(outside);
  const evil = buildTar([{ path: 'x', type: 'symlink', linkpath: outside }, { path: 'x/pwned', content: 'x' }]);
  const r = runStrata(['import', '-', 'evil'], { root, input: evil });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /refusing archive entry "x\/pwned": "x" is a symlink/);
  assert.deepEqual(fs.readdirSync(outside), []);
  assert.equal(ok(runStrata(['images', '-q'], { root }), 'images'), '');
  // The bomb guard's limits come from the environment too.
  const many = buildTar(Array.from({ length: 5 }, (_, i) => ({ path: `f${i}`, content: 'x' })));
  const limited = runStrata(['import', '-', 'many'], { root, input: many, env: { STRATA_MAX_LAYER_ENTRIES: '3' } });
  assert.equal(limited.status, 1);
  assert.match(limited.stderr, /too many entries: more than 3/);
  ok(runStrata(['import', '-', 'many'], { root, input: many }), 'import without the limit');
}));

test('load of something that is not an image archive is one line naming it, and loads nothing', withRoot(async (root, scratch) => {
  const bogus = path.join(scratch, 'not-an-archive.tar');
  fs.writeFileSync(bogus, 'root:x:0:0:root:/root:/bin/sh\n'.repeat(40));
  const result = runStrata(['load', '-i', bogus], { root });
  assert.equal(result.stderr, `Error: loading "${bogus}": invalid tar header checksum\n`);
  assert.equal(result.status, 1);
  assert.equal(ok(runStrata(['images', '-q'], { root }), 'images'), '');
}));

test('save and load round trip in docker-archive and oci-archive formats, keeping the image ID', withRoot(async (root, scratch) => {
  const img = await ensureBusybox(await openStore(root));
  for (const format of ['docker-archive', 'oci-archive']) {
    const file = path.join(scratch, `${format}.tar`);
    ok(runStrata(['save', '--format', format, '-o', file, 'busybox'], { root }), `save ${format}`);
    const other = path.join(scratch, `load-${format}`);
    assert.equal(ok(runStrata(['load', '-i', file], { root: other }), 'load'), 'Loaded image: busybox:latest\n');
    // The loaded image's ID, read from its store here (no `inspect` process per format).
    assert.equal((await (await openStore(other)).resolveImage('busybox')).id, img.id);
  }
  // gzip'ed, through stdin, from save's stdout
  const gz = path.join(scratch, 'bb.tar.gz');
  ok(runStrata(['save', '--compress', '-o', gz, 'busybox'], { root }), 'save --compress');
  const viaStdin = runStrata(['load'], { root: path.join(scratch, 'gz'), input: fs.readFileSync(gz) });
  assert.equal(ok(viaStdin, 'load stdin'), 'Loaded image: busybox:latest\n');
  // By ID, to stdout: no names recorded, so load reports the ID.
  const { command, args } = strataCommand();
  const byId = spawnSync(command, [...args, 'save', img.id.slice(7, 19)], { env: { ...process.env, STRATA_ROOT: root }, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(byId.status, 0, byId.stderr?.toString());
  assert.equal(ok(runStrata(['load'], { root: path.join(scratch, 'byid'), input: byId.stdout }), 'load by id'), `Loaded image ID: ${img.id}\n`);
  // Into a missing directory: one line, whatever the image (busybox's save once died of the temp
  // file's unhandled open error, a stack trace).
  const nowhere = path.join(scratch, 'missing', 'bb.tar');
  const refused = runStrata(['save', '-o', nowhere, 'busybox'], { root });
  assert.deepEqual([refused.status, refused.stderr], [1, `Error: writing "${nowhere}": no such file or directory\n`]);
  assert.equal(fs.existsSync(path.dirname(nowhere)), false);
}));

test('save to a slow reader prints no warning, whatever the number of waits for it; to a missing directory one line', withRoot(async (root, scratch) => {
  // 16 MiB of incompressible bytes: some sixteen waits for the pipe to drain (each left an
  // 'error' listener behind: MaxListenersExceededWarning after ten).
  const archive = path.join(scratch, 'big.tar');
  fs.writeFileSync(archive, buildTar([{ path: 'big', content: (await import('node:crypto')).randomBytes(16 << 20) }]));
  ok(runStrata(['import', archive, 'big:1'], { root }), 'import');
  const { command, args } = strataCommand();
  for (const format of ['docker-archive', 'oci-archive']) {
    const r = spawnSync('sh', ['-c', '"$@" | (sleep 1; cat >/dev/null)', 'sh', command, ...args, 'save', '--format', format, 'big:1'], { env: { ...process.env, STRATA_ROOT: root }, encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.equal(r.stderr, '', format);
  }
  const nowhere = path.join(scratch, 'missing', 'big.tar');
  const refused = runStrata(['save', '-o', nowhere, 'big:1'], { root });
  assert.deepEqual([refused.status, refused.stderr], [1, `Error: writing "${nowhere}": no such file or directory\n`], 'one line naming the file, no stack trace');
}));

test('skopeo and umoci read the store as an OCI layout', { skip: !has('skopeo') && 'skopeo is not installed' }, withRoot(async (root) => {
  const img = await ensureBusybox(await openStore(root));
  const r = spawnSync('skopeo', ['inspect', `oci:${root}:docker.io/library/busybox:latest`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.deepEqual(info.Layers, img.config.rootfs.diff_ids);
  if (has('umoci')) {
    const ls = spawnSync('umoci', ['ls', '--layout', root], { encoding: 'utf8' });
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /docker\.io\/library\/busybox:latest/);
  }
}));

test('umoci applies the whiteouts and opaque dirs of our layers', { skip: !has('umoci') && 'umoci is not installed' }, withRoot(async (root, scratch) => {
  const store = await openStore(root);
  const lower = await store.importLayer([buildTar([
    { path: 'etc/', type: 'dir' }, { path: 'etc/removed', content: 'gone' }, { path: 'etc/kept', content: 'kept' },
    { path: 'opq/', type: 'dir' }, { path: 'opq/old', content: 'old' },
  ])]);
  // The upper layer made from an overlay upper dir: a 0/0 whiteout and an opaque directory.
  const upperDir = path.join(scratch, 'upper');
  fs.mkdirSync(path.join(upperDir, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(upperDir, 'opq'));
  fs.writeFileSync(path.join(upperDir, 'opq/new'), 'new');
  spawnSync('mknod', [path.join(upperDir, 'etc/removed'), 'c', '0', '0']);
  spawnSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(upperDir, 'opq')]);
  const upper = await store.createLayerFromDir(upperDir);
  await store.writeImage({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] }, [lower, upper], { tags: ['localhost/whiteouts:1'] });
  // The store keeps layers as snapshots (no layer blobs in its OCI layout): umoci reads them
  // from the OCI layout `save` writes, the layer tars rebuilt byte for byte.
  const layout = path.join(scratch, 'layout');
  fs.mkdirSync(layout);
  ok(runStrata(['save', '--format', 'oci-archive', '-o', path.join(scratch, 'oci.tar'), 'localhost/whiteouts:1'], { root }), 'save');
  assert.equal(spawnSync('tar', ['-xf', path.join(scratch, 'oci.tar'), '-C', layout]).status, 0);
  const bundle = path.join(scratch, 'bundle');
  const r = spawnSync('umoci', ['unpack', '--image', `${layout}:localhost/whiteouts:1`, bundle], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rootfs = path.join(bundle, 'rootfs');
  assert.deepEqual(fs.readdirSync(path.join(rootfs, 'etc')).sort(), ['kept']);
  assert.deepEqual(fs.readdirSync(path.join(rootfs, 'opq')).sort(), ['new']);
}));

test('podman runs an image strata saved, and strata loads what podman saved', { skip: !has('podman') && 'podman is not installed' }, withRoot(async (root, scratch) => {
  await ensureBusybox(await openStore(root));
  const name = `localhost/strata-interop-${process.pid}:1`;
  const tarball = path.join(scratch, 'marker.tar');
  fs.writeFileSync(tarball, buildTar([{ path: 'marker', content: 'made by strata\n' }]));
  // An image with two layers: busybox + a marker file.
  const store = await openStore(root);
  const bb = await store.resolveImage('busybox');
  const marker = await store.importLayer([fs.readFileSync(tarball)]);
  const cfg = { ...bb.config, rootfs: { type: 'layers' as const, diff_ids: [] }, history: [...bb.config.history, { created_by: 'marker' }] };
  await store.writeImage(cfg, [...bb.manifest.layers.map((l) => ({ diffId: l.digest, digest: l.digest, size: l.size, mediaType: l.mediaType })), marker], { tags: [name] });
  const saved = path.join(scratch, 'saved.tar');
  ok(runStrata(['save', '-o', saved, name], { root }), 'save');
  try {
    const load = spawnSync('podman', ['load', '-i', saved], { encoding: 'utf8' });
    assert.equal(load.status, 0, load.stderr);
    // The image is what is tested, not podman's networking (netavark is flaky under load): no
    // network, and a start that podman's own runtime plumbing fails is tried again.
    const podmanRun = () => spawnSync('podman', ['run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096', name, 'cat', '/marker'], { encoding: 'utf8', timeout: 120_000 });
    let run = podmanRun();
    for (let attempt = 1; attempt < 3 && run.status !== 0 && /OCI runtime error|netavark/.test(run.stderr); attempt++) run = podmanRun();
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, 'made by strata\n');
    for (const format of ['docker-archive', 'oci-archive']) {
      const back = path.join(scratch, `podman-${format}.tar`);
      const s = spawnSync('podman', ['save', '--format', format, '-o', back, name], { encoding: 'utf8' });
      assert.equal(s.status, 0, s.stderr);
      const other = path.join(scratch, `from-podman-${format}`);
      assert.match(ok(runStrata(['load', '-i', back], { root: other }), 'load'), new RegExp(`Loaded image: ${name.replace(/[.]/g, '\\.')}`));
      // The loaded image's layers, read from its store here (no `inspect` process per format).
      const layers = (await (await openStore(other)).resolveImage(name)).config.rootfs.diff_ids;
      assert.equal(layers.length, 2);
      const snap = (await openStore(other)).layerPath(layers[1]);
      assert.equal(fs.readFileSync(path.join(await snap, 'marker'), 'utf8'), 'made by strata\n');
    }
  } finally {
    spawnSync('podman', ['rmi', '-f', name]);
  }
}));

test('concurrent strata processes tagging and importing keep index.json valid and complete', withRoot(async (root, scratch) => {
  const img = await ensureBusybox(await openStore(root));
  const n = 6;
  const procs = Array.from({ length: n }, (_, i) => {
    if (i % 2 === 0) return spawnStrata(['tag', img.id, `localhost/concurrent:${i}`], { root });
    const tarball = path.join(scratch, `layer${i}.tar`);
    fs.writeFileSync(tarball, buildTar([{ path: `file${i}`, content: `content ${i}` }]));
    return spawnStrata(['import', tarball, `localhost/concurrent:${i}`], { root });
  });
  const codes = await Promise.all(procs.map((p) => new Promise<number>((resolve) => p.on('exit', (c) => resolve(c ?? -1)))));
  assert.deepEqual(codes, Array(n).fill(0));
  const idx = await readIndex(path.join(root, 'index.json'));
  const names = idx.manifests.map((d) => d.annotations?.[REF_NAME]).sort();
  assert.deepEqual(names, ['docker.io/library/busybox:latest', ...Array.from({ length: n }, (_, i) => `localhost/concurrent:${i}`)].sort());
  assert.equal(fs.existsSync(path.join(root, 'lock')), false);
  const store = await openStore(root);
  for (let i = 1; i < n; i += 2) {
    const imported = await store.resolveImage(`localhost/concurrent:${i}`);
    const snap = await store.layerPath(imported.config.rootfs.diff_ids[0]);
    assert.equal(fs.readFileSync(path.join(snap, `file${i}`), 'utf8'), `content ${i}`);
  }
}));

test('kill -9 in the middle of an import leaves a readable store', withRoot(async (root, scratch) => {
  await ensureBusybox(await openStore(root));
  // A layer big enough (40 MiB) that the import is still running when it is killed (the kill
  // comes as soon as it has begun writing: the assertion below checks that it had not ended).
  const big = path.join(scratch, 'big.tar');
  fs.writeFileSync(big, buildTar(Array.from({ length: 40 }, (_, i) => ({ path: `f${i}`, content: Buffer.alloc(1024 * 1024, i) }))));
  const p = spawnStrata(['import', big, 'big'], { root });
  // Kill once the import has begun writing into tmp/.
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      const busy = fs.readdirSync(path.join(root, 'tmp')).length > 0 || fs.readdirSync(path.join(root, 'layers')).some((n) => n.startsWith('.tmp-'));
      if (busy || p.exitCode !== null) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
  });
  assert.equal(p.exitCode, null, 'the import was still running');
  p.kill('SIGKILL');
  await new Promise((r) => p.on('exit', r));
  assert.equal(p.signalCode, 'SIGKILL');
  assert.match(ok(runStrata(['images'], { root }), 'images after kill'), /busybox/);
  // The next write collects what the killed process left behind, and the import works again.
  ok(runStrata(['import', big, 'big'], { root }), 're-import');
  assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), []);
  assert.deepEqual(fs.readdirSync(path.join(root, 'layers')).filter((n) => n.startsWith('.tmp-')), []);
  assert.match(ok(runStrata(['images'], { root }), 'images'), /^big\s+latest/m);
}));

test('kill -9 at random moments of concurrent writers never leaves an unreadable store', withRoot(async (root) => {
  const img = await ensureBusybox(await openStore(root));
  const procs = Array.from({ length: 8 }, (_, i) => spawnStrata(['tag', img.id, `localhost/killed:${i}`], { root }));
  // Kill each after a different delay: some before, some inside, some after their index update.
  await Promise.all(procs.map((p, i) => new Promise<void>((resolve) => {
    setTimeout(() => {
      p.kill('SIGKILL');
      resolve();
    }, 50 * i);
  })));
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(null) : p.on('exit', r)))));
  // Whatever survived, the store reads, and the next writer gets the lock (a dead owner's is broken).
  const idx = await readIndex(path.join(root, 'index.json'));
  assert.ok(idx.manifests.some((d) => d.annotations?.[REF_NAME] === 'docker.io/library/busybox:latest'));
  ok(runStrata(['tag', 'busybox', 'localhost/after:1'], { root }), 'tag after the kills');
  assert.match(ok(runStrata(['images'], { root }), 'images'), /^localhost\/after\s+1/m);
  assert.deepEqual(fs.readdirSync(root).filter((n) => n.startsWith('.tmp-')), [], 'temp files of the dead collected');
}));
