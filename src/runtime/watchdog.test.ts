// A build container dies with the process that runs it: a `kill -9` of that process alone, or of
// its whole process group, while the container runs leaves no container, no runc state and no
// process of it behind (runc runs in a session of its own, out of reach of both kills).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../store/busybox.js';
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

  /** A process (group leader) running one container under RuncRunner({ diesWithCaller }); resolves once the container printed "up". */
  async function callerWithContainer(n: number, sleeper: string[]): Promise<number> {
    const dir = path.join(t.dir, `c${n}`);
    fs.mkdirSync(path.join(dir, 'upper'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'work'));
    const spec = {
      rootfs: { lowerDirs: [busybox], upperDir: path.join(dir, 'upper'), workDir: path.join(dir, 'work') },
      args: ['sh', '-c', `echo up; ${sleeper.join(' ')} & ${sleeper.join(' ')}`], env: [], cwd: '/', user: '', network: 'none', mounts: [],
    };
    const program = `const { RuncRunner } = await import(${JSON.stringify(runcModule)});
      await new RuncRunner({ runcRoot: ${JSON.stringify(runcRoot)}, tmpDir: ${JSON.stringify(path.join(t.dir, 'scratch'))}, diesWithCaller: true })
        .run({ ...${JSON.stringify(spec)}, stdout: process.stdout });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('up') && resolve());
      child.once('exit', (code) => reject(new Error(`the caller exited (${code}) before its container ran`)));
    });
    return child.pid!;
  }

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
    const watchdogs = () => [...fs.readdirSync('/proc')].filter((p) => {
      try {
        return /^\d+$/.test(p) && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(runcRoot);
      } catch {
        return false;
      }
    });
    assert.ok(await eventually(() => watchdogs().length === 0), 'the watchdog left once told the container was done');
    assert.deepEqual(fs.readdirSync(path.join(t.dir, 'scratch')).filter((n) => n.startsWith(`${ownerStamp()}-`)), [], 'the bundle went with the run');
  });
});
