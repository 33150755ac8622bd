// Sweeping leftovers: only dead owners' entries (pid and start time), never through a mount.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { noteOutsideTemp, tempName } from './fsutil.js';
import { mountsUnder, removeDeadScratch, removeDeadTemps, sweepStoreLeftovers } from './leftovers.js';
import { ownerGone, ownerStamp, parseOwner, pidAlive, processStartTime } from './owner.js';

/** A process that has exited, as an owner stamp "PID.START". */
async function deadOwner(): Promise<string> {
  const child = spawn('sleep', ['0.2']);
  const stamp = `${child.pid}.${processStartTime(child.pid!)}`;
  await new Promise((r) => child.once('exit', r));
  return stamp;
}

describe('leftovers', () => {
  const t = tempDir('strata-leftovers-');
  const live = spawn('sleep', ['60']);
  after(() => {
    live.kill();
    t.cleanup();
  });

  it('tells dead owners from live ones and from reused pids', async () => {
    assert.deepEqual(parseOwner('123.456-abc'), { pid: 123, start: '456' });
    assert.deepEqual(parseOwner('123-abc'), { pid: 123, start: undefined });
    assert.equal(parseOwner('abc'), undefined);
    assert.equal(ownerGone(parseOwner(ownerStamp())!), false, 'this process');
    const liveStamp = `${live.pid}.${processStartTime(live.pid!)}`;
    assert.equal(ownerGone(parseOwner(liveStamp)!), false, 'a live process');
    assert.equal(ownerGone({ pid: live.pid! }), false, 'a live pid without a start time');
    assert.equal(ownerGone({ pid: live.pid!, start: '1' }), true, 'the pid now names a process that started at another time');
    assert.equal(ownerGone(parseOwner(await deadOwner())!), true, 'an exited process');
  });

  it('takes a zombie (exited, its parent has not reaped it) for gone', async () => {
    // sh starts `sleep 0` and becomes `sleep 30`, which never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(String(await new Promise<Buffer>((r) => parent.stdout.once('data', r))).trim());
      const state = () => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];
      for (let i = 0; i < 100 && state() !== 'Z'; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(state(), 'Z');
      assert.equal(pidAlive(pid), false);
      assert.equal(processStartTime(pid), undefined);
      assert.equal(ownerGone({ pid }), true, 'a zombie without a start time');
    } finally {
      parent.kill('SIGKILL');
    }
    assert.equal(pidAlive(live.pid!), true, 'a live process');
  });

  it("removes dead owners' temps and scratch dirs only", async () => {
    const dir = path.join(t.dir, 'temps');
    fs.mkdirSync(dir);
    const dead = await deadOwner();
    const liveStamp = `${live.pid}.${processStartTime(live.pid!)}`;
    fs.writeFileSync(path.join(dir, `.tmp-${dead}-aa`), 'x');
    fs.mkdirSync(path.join(dir, `.tmp-${dead}-bb.rootfs`));
    fs.writeFileSync(path.join(dir, `.tmp-${dead}-bb.rootfs`, 'f'), 'x');
    fs.writeFileSync(path.join(dir, `.tmp-${liveStamp}-cc`), 'in progress');
    const mine = tempName(dir);
    fs.writeFileSync(mine, 'mine');
    fs.writeFileSync(path.join(dir, 'index.json'), '{}');
    fs.mkdirSync(path.join(dir, `${dead}-scratch`));
    fs.mkdirSync(path.join(dir, `${liveStamp}-scratch`));
    const listed = (await removeDeadTemps(dir, { dryRun: true })).map((p) => path.basename(p)).sort();
    assert.equal(fs.readdirSync(dir).length, 7, 'a dry run removes nothing');
    const removed = (await removeDeadTemps(dir)).map((p) => path.basename(p)).sort();
    assert.deepEqual(listed, removed, 'a dry run lists what a sweep removes');
    assert.deepEqual(removed, [`.tmp-${dead}-aa`, `.tmp-${dead}-bb.rootfs`]);
    assert.deepEqual((await removeDeadScratch(dir)).map((p) => path.basename(p)), [`${dead}-scratch`]);
    assert.deepEqual(fs.readdirSync(dir).sort(), [`.tmp-${liveStamp}-cc`, path.basename(mine), `${liveStamp}-scratch`, 'index.json'].sort());
  });

  it('never removes through a mount: what is mounted in a dead temp dir is unmounted first', async () => {
    const tmp = path.join(t.dir, 'mounted');
    fs.mkdirSync(tmp);
    const precious = path.join(t.dir, 'precious');
    fs.mkdirSync(precious);
    fs.writeFileSync(path.join(precious, 'data'), 'keep me');
    const doomed = path.join(tmp, `.tmp-${await deadOwner()}-dd.root`);
    fs.mkdirSync(path.join(doomed, 'm'), { recursive: true });
    assert.equal(spawnSync('mount', ['--bind', precious, path.join(doomed, 'm')]).status, 0);
    try {
      assert.equal(mountsUnder(fs.realpathSync(doomed)).length, 1);
      assert.equal((await removeDeadTemps(tmp)).length, 1);
      assert.equal(fs.existsSync(doomed), false);
      assert.equal(fs.readFileSync(path.join(precious, 'data'), 'utf8'), 'keep me', 'the mounted directory is untouched');
    } finally {
      spawnSync('umount', ['-l', path.join(doomed, 'm')]);
    }
  });

  it("removes a dead process's temp file outside the state root through its note, and nothing else", async () => {
    const root = path.join(t.dir, 'root');
    const out = path.join(t.dir, 'out');
    fs.mkdirSync(out);
    // A note written by a process that then died, naming its own temp file beside the output.
    const dead = await deadOwner();
    const tmpFile = path.join(out, `.tmp-${dead}-ee`);
    fs.writeFileSync(tmpFile, 'half an archive');
    fs.mkdirSync(path.join(root, 'tmp'), { recursive: true });
    fs.writeFileSync(path.join(root, 'tmp', `.tmp-${dead}-ff.outside`), tmpFile);
    // A forged note naming a file that is not that owner's temp: the note goes, the file stays.
    fs.writeFileSync(path.join(out, 'archive.tar'), 'complete');
    fs.writeFileSync(path.join(root, 'tmp', `.tmp-${dead}-gg.outside`), path.join(out, 'archive.tar'));
    // This process's own note: kept, with its file.
    const mine = tempName(out);
    fs.writeFileSync(mine, 'being written');
    const forget = await noteOutsideTemp(path.join(root, 'tmp'), mine);
    await sweepStoreLeftovers(root);
    assert.deepEqual(fs.readdirSync(out).sort(), [path.basename(mine), 'archive.tar'].sort());
    assert.equal(fs.readdirSync(path.join(root, 'tmp')).length, 1, 'only the live note is left');
    await forget();
    assert.deepEqual(fs.readdirSync(path.join(root, 'tmp')), []);
  });

  it("removes a dead process's temp dir outside the state root through its note, never through a mount or a symlink", async () => {
    const root = path.join(t.dir, 'root-dirs');
    const out = path.join(t.dir, 'out-dirs');
    const notes = path.join(root, 'tmp');
    fs.mkdirSync(notes, { recursive: true });
    fs.mkdirSync(out);
    const dead = await deadOwner();
    const note = (name: string, target: string) => fs.writeFileSync(path.join(notes, `.tmp-${dead}-${name}.outside`), target);
    // A socket dir of a killed build: removed with its contents.
    const sockets = path.join(out, `.tmp-${dead}-aa-agent`);
    fs.mkdirSync(sockets);
    fs.writeFileSync(path.join(sockets, 'agent.sock'), '');
    note('n1', sockets);
    // A symlink by that name (to someone's data): neither it nor what it points to is removed through it.
    const precious = path.join(t.dir, 'precious-dirs');
    fs.mkdirSync(precious);
    fs.writeFileSync(path.join(precious, 'data'), 'keep me');
    fs.symlinkSync(precious, path.join(out, `.tmp-${dead}-bb-ssh`));
    note('n2', path.join(out, `.tmp-${dead}-bb-ssh`));
    // A dir with something mounted in it: kept whole, and its note with it (tried again later).
    const mounted = path.join(out, `.tmp-${dead}-cc-ssh`);
    fs.mkdirSync(path.join(mounted, 'm'), { recursive: true });
    assert.equal(spawnSync('mount', ['--bind', precious, path.join(mounted, 'm')]).status, 0);
    note('n3', mounted);
    try {
      await sweepStoreLeftovers(root);
      assert.deepEqual(fs.readdirSync(out).sort(), [`.tmp-${dead}-bb-ssh`, `.tmp-${dead}-cc-ssh`]);
      assert.equal(fs.readFileSync(path.join(precious, 'data'), 'utf8'), 'keep me');
      assert.deepEqual(fs.readdirSync(notes), [`.tmp-${dead}-n3.outside`]);
    } finally {
      spawnSync('umount', ['-l', path.join(mounted, 'm')]);
    }
    await sweepStoreLeftovers(root);
    assert.deepEqual(fs.readdirSync(out), [`.tmp-${dead}-bb-ssh`], 'unmounted: the dir goes on the next sweep');
    assert.deepEqual(fs.readdirSync(notes), []);
    assert.equal(fs.readFileSync(path.join(precious, 'data'), 'utf8'), 'keep me');
  });
});
