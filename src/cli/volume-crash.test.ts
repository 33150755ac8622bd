// A `volume rm` killed (kill -9, failpoints of src/failpoint.ts) between its steps loses
// nothing: killed after moving the volume aside and before deciding, the next command puts it
// back with its files; killed once it had decided to delete it, the next command finishes the
// deletion; an aside whose name a new volume took meanwhile is kept, whole, named by `system
// check`, and goes back once the name is free. Real processes and dirs (store/volume-asides.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/index.js';
import { ensureBusybox } from '../testing/busybox.js';
import { runStrata, spawnStrata, tempDir } from '../testing/cli.js';
import { runUntilKilled, waitStopped } from '../testing/faults.js';

describe('volume rm killed midway', { concurrency: false, timeout: 120_000 }, () => {
  let root: string;
  let cleanup: () => void;
  before(async () => {
    ({ dir: root, cleanup } = tempDir('strata-volcrash-'));
    await ensureBusybox(await openStore(root));
  });
  after(() => cleanup());

  const ok = (args: string[]) => {
    const r = runStrata(args, { root });
    assert.equal(r.status, 0, `strata ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const names = () => ok(['volume', 'ls', '-q']).split('\n').filter(Boolean);
  const asides = () => fs.readdirSync(path.join(root, 'volumes')).filter((n) => n.startsWith('.'));
  const data = (name: string) => path.join(root, 'volumes', name, '_data');
  const made = (name: string, content: string) => {
    ok(['volume', 'create', name]);
    fs.mkdirSync(path.join(data(name), 'sub'));
    fs.writeFileSync(path.join(data(name), 'sub', 'precious'), content);
  };

  it('puts the volume back, files and all, when killed after moving it aside, before deciding', async () => {
    made('undecided', 'kept\n');
    await runUntilKilled(['volume', 'rm', 'undecided'], { root, point: 'volume.moved-aside' });
    assert.deepEqual(asides().map((n) => n.replace(/-\d+\.\d+-[0-9a-f]{8}$/, '-OWNER')), ['.rm-undecided-OWNER'], 'moved aside, undecided');
    assert.deepEqual(names(), ['undecided']);
    assert.deepEqual(asides(), []);
    assert.equal(fs.readFileSync(path.join(data('undecided'), 'sub', 'precious'), 'utf8'), 'kept\n');
    ok(['volume', 'rm', 'undecided']);
    assert.deepEqual([names(), asides()], [[], []]);
  });

  it('a run that mounts the volume by name right after the killed removal gets it back, not a new empty one', async () => {
    made('remounted', 'still here\n');
    await runUntilKilled(['volume', 'rm', 'remounted'], { root, point: 'volume.moved-aside' });
    assert.equal(asides().length, 1, 'moved aside, undecided');
    // `run` sweeps only once runc runs, after its mounts are made: the mount itself puts it back.
    assert.equal(ok(['run', '--rm', '-v', 'remounted:/data', 'busybox', 'cat', '/data/sub/precious']), 'still here\n');
    assert.deepEqual([names(), asides()], [['remounted'], []]);
    ok(['volume', 'rm', 'remounted']);
  });

  it('finishes the deletion when killed once it had decided to delete', async () => {
    made('decided', 'doomed\n');
    await runUntilKilled(['volume', 'rm', 'decided'], { root, point: 'volume.drop-decided' });
    assert.deepEqual(asides().map((n) => n.replace(/-\d+\.\d+-[0-9a-f]{8}$/, '-OWNER')), ['.drop-decided-OWNER']);
    assert.deepEqual(names(), []);
    assert.deepEqual(asides(), [], 'deleted by the sweep');
    ok(['volume', 'create', 'decided']);
    assert.deepEqual(fs.readdirSync(data('decided')), [], 'a new, empty volume');
    ok(['volume', 'rm', 'decided']);
  });

  it('keeps an aside whose name a new volume took, and puts it back once the name is free', async () => {
    made('taken', 'old\n');
    const rm = spawnStrata(['volume', 'rm', 'taken'], { root, env: { STRATA_FAILPOINT: 'volume.moved-aside:stop' } });
    const closed = new Promise<NodeJS.Signals | null>((resolve) => rm.once('close', (_code, signal) => resolve(signal)));
    try {
      await waitStopped(rm.pid!, 'volume rm stopped at volume.moved-aside');
      // The removal is alive: its aside is left alone, and the name is free for a new volume.
      assert.deepEqual(names(), []);
      ok(['volume', 'create', 'taken']);
      fs.writeFileSync(path.join(data('taken'), 'new'), 'new\n');
    } finally {
      rm.kill('SIGKILL');
    }
    assert.equal(await closed, 'SIGKILL');
    assert.deepEqual(names(), ['taken']);
    assert.deepEqual(fs.readdirSync(data('taken')), ['new'], 'the new volume is the one of that name');
    const [aside] = asides();
    assert.match(aside ?? '', /^\.rm-taken-\d+\.\d+-[0-9a-f]{8}$/, 'the old one is kept aside');
    assert.equal(fs.readFileSync(path.join(root, 'volumes', aside!, '_data', 'sub', 'precious'), 'utf8'), 'old\n');
    const check = runStrata(['system', 'check'], { root });
    assert.match(check.stdout, new RegExp(`leftover: ".*/volumes/\\${aside}": volume "taken" moved aside by a removal that was killed; not put back: a new volume "taken" has been made since \\(its files are kept there`));
    ok(['system', 'check', '--repair']);
    assert.deepEqual(asides(), [aside], 'repair keeps it too');
    ok(['volume', 'rm', 'taken']);
    assert.deepEqual(names(), ['taken'], 'the name is free: the old volume is back');
    assert.equal(fs.readFileSync(path.join(data('taken'), 'sub', 'precious'), 'utf8'), 'old\n');
    assert.deepEqual(asides(), []);
  });

  it('deletes the half-made volume of a killed `volume create`, never a live creator\'s', async () => {
    const mine = () => names().filter((n) => n === 'half-made' || n === 'slow');
    // A live creator stopped with its temp in place: no sweep touches it.
    const live = spawnStrata(['volume', 'create', 'slow'], { root, env: { STRATA_FAILPOINT: 'volume.create-tmp:stop' } });
    const closed = new Promise<NodeJS.Signals | null>((resolve) => live.once('close', (_code, signal) => resolve(signal)));
    try {
      await waitStopped(live.pid!, 'volume create stopped at volume.create-tmp');
      await runUntilKilled(['volume', 'create', 'half-made'], { root, point: 'volume.create-tmp' });
      const temps = asides().map((n) => n.replace(/-\d+\.\d+-[0-9a-f]{8}$/, '-OWNER')).sort();
      assert.deepEqual(temps, ['.tmp-half-made-OWNER', '.tmp-slow-OWNER']);
      const check = runStrata(['system', 'check'], { root });
      assert.match(check.stdout, /leftover: ".*\/volumes\/\.tmp-half-made-\d+\.\d+-[0-9a-f]{8}": a volume whose creation was killed before it was put in place/);
      assert.doesNotMatch(check.stdout, /\.tmp-slow-/, 'a live creator\'s temp is not a leftover');
      assert.deepEqual(mine(), [], 'a half-made volume is no volume');
      assert.deepEqual(asides().map((n) => n.replace(/-\d+\.\d+-[0-9a-f]{8}$/, '-OWNER')), ['.tmp-slow-OWNER'], 'the dead creator\'s temp is swept, the live one\'s kept');
      live.kill('SIGCONT');
      assert.equal(await closed, null, 'the live creator finishes');
    } finally {
      live.kill('SIGKILL');
    }
    assert.deepEqual([mine(), asides()], [['slow'], []]);
    ok(['volume', 'rm', 'slow']);
  });
});
