// The early shim (cli/early-shim.cts): `run -d` / `-p` / `-it` spawn their shim from start.cjs,
// before the run code loads, and it learns its container from "go DIR". A run that fails before
// that, or a command killed while its shim waits, leaves no process and no log behind; a shim
// killed after "go" is the shim crash it always was; STRATA_NO_EARLY_SHIM=1 keeps the old path.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runUntilKilled } from '../testing/faults.js';
import { eventually, lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';
import { runStrata } from '../testing/cli.js';
import { wantsShim } from './early-shim.cjs';

const underTsx = import.meta.url.endsWith('.ts');
const TIMING = { STRATA_TIMING: '1' };

/** The pid of the early shim a command spawned, from its STRATA_TIMING milestones. */
function earlyPid(stderr: string): number | undefined {
  const m = /^timing: early shim spawned \(pid (\d+)\)/m.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l && !l.startsWith('timing: '));

describe('wantsShim: which runs spawn their shim early', () => {
  it('says yes to -d, -p, -P and -i with -t, alone or in clusters, and no to the rest', () => {
    const yes = [['-d', 'busybox'], ['--detach', 'busybox'], ['-dit', 'busybox'], ['-p', '80:80', 'busybox'], ['-p8080:80', 'busybox'], ['-dp', '80:80', 'b'],
      ['-P', 'busybox'], ['--publish=80', 'b'], ['--publish', '80', 'b'], ['-it', 'busybox'], ['-ti', 'b'], ['-i', '-t', 'b'], ['--interactive', '--tty', 'b']];
    const no = [['busybox', 'true'], ['--rm', 'busybox'], ['-i', 'busybox'], ['-t', 'busybox'], ['-e', 'X=1', 'busybox'], ['-v', '/a:/b', 'b'], ['-d', '--help'], ['--', '-d']];
    for (const args of yes) assert.equal(wantsShim(args), true, args.join(' '));
    for (const args of no) assert.equal(wantsShim(args), false, args.join(' '));
  });
});

describe('run with an early shim', { skip: underTsx && 'start.cjs runs from dist/ only', timeout: 300_000 }, () => {
  let fx: LifecycleFixture;
  const strata = (args: string[], env: NodeJS.ProcessEnv = {}) => runStrata(args, { root: fx.root, env: { ...TIMING, ...env } });
  const tmpLogs = () => fs.readdirSync(path.join(fx.root, 'tmp')).filter((n) => n.endsWith('-shim.log'));
  const shimPidOf = (id: string) => (JSON.parse(fs.readFileSync(path.join(fx.root, 'containers', id, 'shim.json'), 'utf8')) as { shimPid: number }).shimPid;

  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => {
    await fx?.teardown();
    assert.deepEqual(fx.leftovers(), { processes: [], mounts: [] });
  });

  it('runs the container under the shim it spawned first, its log in the container', () => {
    const run = strata(['run', '-d', '--name', 'early', 'busybox', 'sleep', '300']);
    assert.equal(run.status, 0, run.stderr);
    const id = run.stdout.trim();
    const pid = earlyPid(run.stderr);
    assert.ok(pid, `no early shim: ${run.stderr}`);
    assert.equal(shimPidOf(id), pid, 'the early shim runs the container');
    assert.match(fs.readFileSync(path.join(fx.root, 'containers', id, 'shim.log'), 'utf8'), /timing: shim: go /);
    assert.deepEqual(tmpLogs(), []);
    assert.match(strata(['ps']).stdout, /Up .* early\n/);
    assert.equal(strata(['rm', '-f', 'early']).status, 0);
  });

  it('spawns it after the record with STRATA_NO_EARLY_SHIM=1', () => {
    const run = strata(['run', '-d', '--name', 'late', 'busybox', 'sleep', '300'], { STRATA_NO_EARLY_SHIM: '1' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(earlyPid(run.stderr), undefined);
    assert.ok(alive(shimPidOf(run.stdout.trim())));
    assert.match(strata(['ps']).stdout, /Up .* late\n/);
    assert.equal(strata(['rm', '-f', 'late']).status, 0);
  });

  it('lets the waiting shim go when the run fails first: it exits and leaves nothing', async () => {
    assert.equal(strata(['create', '--name', 'taken', 'busybox', 'true']).status, 0);
    const before = strata(['ps', '-aq']).stdout;
    for (const args of [['-d', '--bogus', 'busybox'], ['-d', '--pull', 'never', 'strata-no-such-image:1'], ['-d', '--name', 'taken', 'busybox', 'true'], ['-it', 'busybox']]) {
      const run = strata(['run', ...args]);
      assert.equal(run.status, 125, `${args.join(' ')}: ${run.stderr}`);
      assert.equal(errorLines(run.stderr).length, 1, run.stderr);
      const pid = earlyPid(run.stderr);
      assert.ok(pid, `${args.join(' ')}: no early shim`);
      assert.ok(await eventually(() => !alive(pid), 100).catch(() => false), `${args.join(' ')}: the shim ${pid} is still there`);
      assert.deepEqual(tmpLogs(), [], args.join(' '));
    }
    assert.equal(strata(['ps', '-aq']).stdout, before, 'no container made');
    assert.equal(strata(['rm', 'taken']).status, 0);
  });

  it('leaves no process and no half container when the command is killed while its shim waits', async () => {
    const { stderr } = await runUntilKilled(['run', '-d', '--name', 'cut', '-p', '127.0.0.1::80', 'busybox', 'sleep', '300'], { root: fx.root, point: 'shim.before-go', env: TIMING });
    const pid = earlyPid(stderr);
    assert.ok(pid, stderr);
    assert.ok(await eventually(() => !alive(pid), 100).catch(() => false), 'the waiting shim exits at its EOF');
    assert.ok(await eventually(() => fx.leftovers().processes.length === 0, 100).catch(() => false), `left running: ${fx.leftovers().processes.join(' ')}`);
    assert.deepEqual(tmpLogs(), []);
    // What is left is a whole container that never started, as Docker's `create` makes.
    assert.equal(strata(['inspect', '--format', '{{.State.Status}}', 'cut']).stdout, 'created\n');
    assert.equal(strata(['start', 'cut']).status, 0);
    assert.match(strata(['ps']).stdout, /Up .* cut\n/);
    assert.equal(strata(['rm', '-f', 'cut']).status, 0);
  });

  it('is a shim crash as before when the shim is killed after "go"', async () => {
    const run = strata(['run', '-d', '--name', 'crash', 'busybox', 'sleep', '300']);
    assert.equal(run.status, 0, run.stderr);
    const pid = earlyPid(run.stderr)!;
    assert.equal(shimPidOf(run.stdout.trim()), pid);
    process.kill(pid, 'SIGKILL');
    assert.ok(await eventually(() => !fs.existsSync(`/proc/${pid}`), 100).catch(() => false));
    // runc still runs the container: it is up, and stop still works through runc.
    assert.match(strata(['ps']).stdout, /Up .* crash\n/);
    assert.equal(strata(['stop', '-t', '1', 'crash']).status, 0);
    assert.match(strata(['ps', '-a']).stdout, /Exited \(137\) .* crash\n/);
    assert.equal(strata(['start', 'crash']).status, 0);
    assert.match(strata(['ps']).stdout, /Up .* crash\n/);
    assert.equal(strata(['rm', '-f', 'crash']).status, 0);
  });
});
