// A build container dies with the process that runs it: a `kill -9` of that process alone, or of
// its whole process group, while the container runs leaves no container, no runc state and no
// process of it behind (runc runs in a session of its own, out of reach of both kills).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { removeDeadScratch } from '../store/leftovers.js';
import { ownerStamp } from '../store/owner.js';
import { openStore } from '../store/store.js';
import { tempDir } from '../testing/cli.js';
import { eventually, processesRunning } from '../testing/faults.js';

const runcModule = new URL('./runc.js', import.meta.url).href;

describe('build containers die with their caller', () => {
  const t = tempDir('strata-watchdog-');
  const runcRoot = path.join(t.dir, 'runc');
  let busybox: string;
  before(async () => {
    const store = await openStore(path.join(t.dir, 'store'));
    busybox = await store.layerPath((await ensureBusybox(store)).config.rootfs.diff_ids[0]!);
  });
  after(() => {
    for (const id of (spawnSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean)) {
      spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id]);
    }
    t.cleanup();
  });

  const specFor = (name: string, args: string[]) => {
    const dir = path.join(t.dir, name);
    fs.mkdirSync(path.join(dir, 'upper'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'work'));
    return { rootfs: { lowerDirs: [busybox], upperDir: path.join(dir, 'upper'), workDir: path.join(dir, 'work') }, args, env: [], cwd: '/', user: '', network: 'none', mounts: [] };
  };

  /**
   * A process (group leader) that first runs `before` containers to their end, then `count` at once under
   * one RuncRunner({ diesWithCaller }); resolves once each of those printed "up".
   */
  async function callerWithContainer(n: number, sleeper: string[], count = 1, before = 0): Promise<number> {
    const done = Array.from({ length: before }, (_, i) => specFor(`c${n}-done${i}`, ['true']));
    const running = Array.from({ length: count }, (_, i) => specFor(`c${n}-${i}`, ['sh', '-c', `echo up; ${sleeper.join(' ')} & ${sleeper.join(' ')}`]));
    const program = `const { RuncRunner } = await import(${JSON.stringify(runcModule)});
      const runner = new RuncRunner({ runcRoot: ${JSON.stringify(runcRoot)}, tmpDir: ${JSON.stringify(path.join(t.dir, 'scratch'))}, diesWithCaller: true });
      for (const spec of ${JSON.stringify(done)}) await runner.run({ ...spec, stdout: 'ignore' });
      await Promise.all(${JSON.stringify(running)}.map((spec) => runner.run({ ...spec, stdout: process.stdout })));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      let ups = 0;
      child.stdout.on('data', (d: Buffer) => (ups += d.toString().split('up').length - 1) >= count && resolve());
      child.once('exit', (code) => reject(new Error(`the caller exited (${code}) before its containers ran`)));
    });
    return child.pid!;
  }

  /** The watchdog processes of this test's runc root. */
  const watchdogs = () => [...fs.readdirSync('/proc')].filter((p) => {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      return /^\d+$/.test(p) && argv.includes('strata-watchdog') && argv.includes(runcRoot);
    } catch {
      return false;
    }
  });

  it('one watchdog serves a caller\'s containers: after a finished one, a kill -9 mid-run of two at once leaves none of them', async () => {
    const sleeper = ['sleep', '86302'];
    const pid = await callerWithContainer(2, sleeper, 2, 1);
    assert.ok(await eventually(() => processesRunning(sleeper).length === 4), 'the two containers run two sleeps each');
    assert.equal(watchdogs().length, 1, 'one watchdog for the caller');
    process.kill(pid, 'SIGKILL');
    assert.ok(await eventually(() => processesRunning(sleeper).length === 0), 'every process of both containers is gone');
    assert.ok(await eventually(() => !fs.existsSync(runcRoot) || fs.readdirSync(runcRoot).length === 0), "runc's state of them is gone");
    assert.ok(await eventually(() => watchdogs().length === 0), 'the watchdog left');
    await removeDeadScratch(path.join(t.dir, 'scratch'));
  });

  for (const group of [false, true]) {
    it(`kill -9 of the caller${group ? "'s process group" : ' alone'} mid-run leaves no container, state or process`, async () => {
      const sleeper = ['sleep', String(86300 + (group ? 1 : 0))];
      const pid = await callerWithContainer(group ? 1 : 0, sleeper);
      assert.ok(await eventually(() => processesRunning(sleeper).length === 2), 'the container runs two sleeps');
      process.kill(group ? -pid : pid, 'SIGKILL');
      assert.ok(await eventually(() => processesRunning(sleeper).length === 0), 'every process of the container is gone');
      assert.ok(await eventually(() => !fs.existsSync(runcRoot) || fs.readdirSync(runcRoot).length === 0), "runc's state of it is gone");
      // Its bundle is a dead owner's scratch dir, which a sweep removes.
      const removed = await removeDeadScratch(path.join(t.dir, 'scratch'));
      assert.equal(removed.length, 1);
      assert.ok(path.basename(removed[0]!).startsWith(`${pid}.`), removed[0]);
    });
  }

  it('a run that ends normally leaves no watchdog behind', async () => {
    const { RuncRunner } = await import('./runc.js');
    const dir = path.join(t.dir, 'normal');
    fs.mkdirSync(path.join(dir, 'upper'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'work'));
    const result = await new RuncRunner({ runcRoot, tmpDir: path.join(t.dir, 'scratch'), diesWithCaller: true }).run({
      rootfs: { lowerDirs: [busybox], upperDir: path.join(dir, 'upper'), workDir: path.join(dir, 'work') },
      args: ['true'], env: [], cwd: '/', user: '', network: 'none', mounts: [], stdout: 'ignore', stderr: 'ignore',
    });
    assert.equal(result.exitCode, 0);
    assert.ok(await eventually(() => watchdogs().length === 0), 'the watchdog left once told the container was done');
    assert.deepEqual(fs.readdirSync(path.join(t.dir, 'scratch')).filter((n) => n.startsWith(`${ownerStamp()}-`)), [], 'the bundle went with the run');
  });
});
