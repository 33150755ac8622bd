// The runner on its own, as the build engine uses it: real runc, overlay root, captured output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { tempDir } from '../testing/cli.js';
import { RuncRunner } from './runc.js';
import type { RunSpec } from './types.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let buf = '';
  stream.on('data', (d) => (buf += d));
  return { stream, text: () => buf };
}

describe('RuncRunner', () => {
  const t = tempDir('strata-runc-');
  const runcRoot = path.join(t.dir, 'runc');
  let busybox: string;
  let n = 0;
  before(async () => {
    const store = await openStore(path.join(t.dir, 'store'));
    const image = await ensureBusybox(store);
    busybox = await store.layerPath(image.config.rootfs.diff_ids[0]!);
  });
  after(() => {
    const list = spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout ?? '';
    for (const id of list.split('\n').filter(Boolean)) spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id]);
    t.cleanup();
  });

  function spec(args: string[], lowerDirs: string[] = [busybox], over: Partial<RunSpec> = {}): RunSpec {
    const dir = path.join(t.dir, `c${n++}`);
    fs.mkdirSync(path.join(dir, 'upper'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'work'));
    return { rootfs: { lowerDirs, upperDir: path.join(dir, 'upper'), workDir: path.join(dir, 'work') }, args, env: [], cwd: '/', user: '', network: 'none', mounts: [], ...over };
  }

  it('stacks more layers than one page of mount options could name', async () => {
    // 120 layers under a long directory name: their paths alone are far over 4096 bytes.
    const deep = path.join(t.dir, 'a-rather-long-directory-name-for-layers-'.repeat(3));
    const layers = [busybox];
    for (let i = 0; i < 120; i++) {
      const layer = path.join(deep, `layer-${String(i).padStart(3, '0')}-${'x'.repeat(40)}`);
      fs.mkdirSync(layer, { recursive: true });
      fs.writeFileSync(path.join(layer, 'which'), `layer ${i}\n`);
      fs.writeFileSync(path.join(layer, `only-${i}`), '');
      layers.push(layer);
    }
    assert.ok(layers.join(':').length > 8192);
    const out = capture();
    const s = spec(['sh', '-c', 'cat /which; ls / | grep -c only-'], layers, { stdout: out.stream });
    const result = await new RuncRunner({ runcRoot }).run(s);
    assert.equal(result.exitCode, 0);
    assert.equal(out.text(), 'layer 119\n120\n', 'the topmost layer wins and every layer is visible');
    assert.deepEqual(fs.readdirSync(s.rootfs.upperDir), [], 'mount points stay out of the upper dir');
  });

  it('leaves the changes in the upper dir and nothing else behind', async () => {
    const s = spec(['sh', '-c', 'echo hi > /new; rm /bin/ls']);
    // A private TMPDIR, so other test processes' bundles cannot disturb the count.
    const tmp = path.join(t.dir, 'tmp');
    fs.mkdirSync(tmp);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      assert.equal((await new RuncRunner({ runcRoot }).run(s)).exitCode, 0);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    assert.equal(fs.readFileSync(path.join(s.rootfs.upperDir, 'new'), 'utf8'), 'hi\n');
    const wh = fs.lstatSync(path.join(s.rootfs.upperDir, 'bin', 'ls'));
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'a deletion is an overlay whiteout');
    assert.deepEqual(fs.readdirSync(tmp), [], 'the bundle is removed');
    assert.equal((spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout ?? '').trim(), '');
    assert.ok(!fs.readFileSync('/proc/mounts', 'utf8').includes(s.rootfs.upperDir), 'no overlay is left mounted on the host');
  });

  it('feeds stdin and captures stdout and stderr apart', async () => {
    const out = capture();
    const err = capture();
    const s = spec(['sh', '-c', 'cat; echo oops >&2; exit 4'], [busybox], { stdin: 'from stdin\n', stdout: out.stream, stderr: err.stream });
    assert.equal((await new RuncRunner({ runcRoot }).run(s)).exitCode, 4);
    assert.equal(out.text(), 'from stdin\n');
    assert.equal(err.text(), 'oops\n');
  });

  it('kills the container on abort and cleans up', async () => {
    const controller = new AbortController();
    const s = spec(['sleep', '60'], [busybox], { id: 'abort-test' });
    const running = new RuncRunner({ runcRoot }).run(s, { signal: controller.signal, onSpawn: () => setTimeout(() => controller.abort(), 300) });
    const result = await running;
    assert.equal(result.exitCode, 137);
    assert.equal(spawnSync('runc', ['--root', runcRoot, 'state', 'abort-test']).status, 1, 'runc no longer knows the container');
  });

  it('kills a container aborted the moment it is spawned', async () => {
    const controller = new AbortController();
    const s = spec(['sleep', '60'], [busybox], { id: 'abort-early' });
    const result = await new RuncRunner({ runcRoot }).run(s, { signal: controller.signal, onSpawn: () => controller.abort() });
    assert.equal(result.exitCode, 137);
    await assert.rejects(new RuncRunner({ runcRoot }).run(spec(['true']), { signal: AbortSignal.abort() }), /aborted/);
  });

  it("reports the container's init pid once it runs", async () => {
    const out = capture();
    let reported = 0;
    const s = spec(['sh', '-c', 'echo $$; read x'], [busybox], { id: 'pid-test', stdin: new PassThrough(), stdout: out.stream });
    const running = new RuncRunner({ runcRoot }).run(s, {
      onStarted: (pid) => {
        reported = pid;
        // The host pid of the container's init: its pid namespace sees it as 1.
        const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
        assert.match(status, /^NSpid:\s+\d+\s+1$/m);
        (s.stdin as PassThrough).end('go\n');
      },
    });
    assert.equal((await running).exitCode, 0);
    assert.ok(reported > 0);
    assert.equal(out.text(), '1\n');
  });

  it('limits memory through the cgroup', async () => {
    const out = capture();
    const s = spec(['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'], [busybox], { memoryBytes: 64 * 1024 * 1024, stdout: out.stream });
    assert.equal((await new RuncRunner({ runcRoot }).run(s)).exitCode, 0);
    assert.equal(out.text().trim(), String(64 * 1024 * 1024));
  });

  it('refuses a relative working directory and an invalid ID', async () => {
    await assert.rejects(new RuncRunner({ runcRoot }).run(spec(['true'], [busybox], { cwd: 'rel' })), /needs to be an absolute path/);
    await assert.rejects(new RuncRunner({ runcRoot }).run(spec(['true'], [busybox], { id: '../x' })), /invalid container ID/);
  });
});
