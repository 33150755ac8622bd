// A build with `--ssh ID=KEY` killed (-9) mid-RUN leaves its private ssh-agent running (it is
// started with -D and never looks at its parent) and its socket dirs in the OS temp dir. Both
// are noted in the state root (the agent notes itself, before it runs: a build killed right
// after spawning it leaves it noted too): `system check` names them, the next command ends the
// agent and removes the dirs. A live build's (one stopped there) are kept: let go, it completes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, spawnStrata, tempDir } from '../testing/cli.js';
import { eventually, runUntilKilled, waitStopped } from '../testing/faults.js';

describe('a killed build\'s ssh agent and socket dirs', { timeout: 300_000 }, () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;
  let key: string;
  /** The builds' OS temp dir (TMPDIR): what they leave there is this test's alone. */
  let osTmp: string;
  const buildArgs = () => ['build', '--progress', 'plain', '--ssh', `keys=${key}`, ctx];

  /** The dirs outside the root that the root's notes name (the agent's and the step's relay). */
  const notedDirs = () => {
    const tmp = path.join(root, 'tmp');
    return (fs.existsSync(tmp) ? fs.readdirSync(tmp) : []).filter((n) => n.endsWith('.outside')).map((n) => fs.readFileSync(path.join(tmp, n), 'utf8').trim()).sort();
  };
  /** Pids of ssh-agent processes whose command line mentions one of DIRS. */
  const agentsIn = (dirs: string[]) => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      return cmd.startsWith('ssh-agent\0') && dirs.some((d) => cmd.includes(d));
    } catch {
      return false;
    }
  }).map(Number);

  before(async () => {
    t = tempDir('strata-sshleft-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    key = path.join(t.dir, 'id_ed25519');
    assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'strata-test', '-f', key]).status, 0);
    ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    osTmp = path.join(t.dir, 'ostmp');
    fs.mkdirSync(osTmp);
    // Output first (the failpoint), then a while in the step.
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN --mount=type=ssh,id=keys echo started; sleep 2; test -S /run/buildkit/ssh_agent.0\n');
  });
  after(() => {
    for (const pid of agentsIn([osTmp])) process.kill(pid, 'SIGTERM');
    runStrata(['ps', '-a'], { root }); // sweeps the build containers
    t.cleanup();
  });

  it('are named by `system check` and gone after the next command', async () => {
    await runUntilKilled(buildArgs(), { root, point: 'build.run-output', env: { TMPDIR: osTmp } });
    const dirs = notedDirs();
    assert.equal(dirs.length, 2, 'the agent\'s dir and the step\'s relay dir are noted');
    for (const d of dirs) assert.ok(fs.statSync(d).isDirectory() && path.dirname(d) === osTmp, `${d} is left in the OS temp dir`);
    const agents = agentsIn(dirs);
    assert.equal(agents.length, 1, 'the agent outlived its build');
    const check = runStrata(['system', 'check'], { root });
    for (const d of dirs) assert.ok(check.stdout.includes(`leftover: "${d}"`), check.stdout);
    assert.ok(check.stdout.includes(`leftover: process ${agents[0]}: a helper (ssh-agent) of a build that is gone`), check.stdout);
    assert.equal(runStrata(['ps', '-a'], { root }).status, 0);
    assert.ok(await eventually(() => agentsIn(dirs).length === 0), 'the agent is ended');
    assert.deepEqual(dirs.filter((d) => fs.existsSync(d)), [], 'the dirs are removed');
    assert.deepEqual(notedDirs(), [], 'and their notes');
  });

  it('an agent whose build was killed right after spawning it notes itself, and is ended', async () => {
    await runUntilKilled(buildArgs(), { root, point: 'build.ssh-agent-spawned', env: { TMPDIR: osTmp } });
    const tmp = path.join(root, 'tmp');
    const notes = () => (fs.existsSync(tmp) ? fs.readdirSync(tmp) : []).filter((n) => n.endsWith('.helper'));
    // The agent writes its note itself once spawned: the build, killed, never could.
    assert.ok(await eventually(() => notes().length === 1), `the agent noted itself: ${notes().join(', ')}`);
    const agents = agentsIn([osTmp]);
    assert.equal(agents.length, 1, 'the agent outlived its build');
    assert.equal(fs.readFileSync(path.join(tmp, notes()[0]!), 'utf8').split('.')[0], String(agents[0]), 'the note names the agent');
    assert.equal(runStrata(['ps', '-a'], { root }).status, 0);
    assert.ok(await eventually(() => agentsIn([osTmp]).length === 0), 'the agent is ended');
    assert.deepEqual(notes(), []);
  });

  it('are kept while the build lives; let go, it completes and removes them itself', async () => {
    const child = spawnStrata(buildArgs(), { root, env: { STRATA_FAILPOINT: 'build.run-output:stop', TMPDIR: osTmp } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      await waitStopped(child.pid!, 'the build stopped mid-RUN', 20_000);
      const dirs = notedDirs();
      assert.equal(dirs.length, 2);
      assert.equal(runStrata(['ps', '-a'], { root }).status, 0);
      assert.deepEqual(dirs.filter((d) => fs.existsSync(d)), dirs, 'its dirs are kept');
      assert.equal(agentsIn(dirs).length, 1, 'its agent runs on');
      const dirsAgain = dirs;
      child.kill('SIGCONT');
      assert.equal(await closed, 0, stderr);
      assert.deepEqual(dirsAgain.filter((d) => fs.existsSync(d)), [], 'removed by the build itself');
      assert.deepEqual(notedDirs(), []);
    } finally {
      child.kill('SIGCONT');
    }
  });
});
