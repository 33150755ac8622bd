// Commands whose reader goes away (`strata images | head -1`, `strata logs -f c | head -1`) end
// quietly, as docker does on SIGPIPE: no "write EPIPE", no stack trace; a follower stops.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { strataCommand } from '../testing/cli.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

/** Runs strata with its stdout's reading end closed at once; resolves with its code and stderr. */
function withClosedStdout(root: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const { command, args: lead } = strataCommand();
  const child = spawn(command, [...lead, ...args], { env: { ...process.env, STRATA_ROOT: root }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, stderr });
  }));
}

describe('a closed stdout', () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
    assert.equal(fx.strata(['run', '-d', '--name', 'chatty', 'busybox', 'sh', '-c', 'while true; do echo line; sleep 0.05; done']).status, 0);
    // Enough lines that the log has something to write at once.
    for (let i = 0; i < 50 && fx.strata(['logs', 'chatty']).stdout.split('\n').length < 5; i++) await new Promise((r) => setTimeout(r, 100));
  });
  after(async () => fx.teardown());

  for (const args of [['images'], ['ps', '-a'], ['history', 'busybox'], ['inspect', 'busybox'], ['logs', 'chatty'], ['logs', '-f', 'chatty'], ['stats', 'chatty'], ['cp', 'chatty:/etc', '-']]) {
    it(`strata ${args.join(' ')} ends quietly`, async () => {
      const r = await withClosedStdout(fx.root, args);
      assert.equal(r.stderr, '');
      assert.equal(r.code, 141, 'as a process ended by SIGPIPE');
    });
  }
});

describe('a closed stderr of a foreground run --rm', () => {
  let fx: LifecycleFixture;
  before(async () => {
    fx = await lifecycleFixture();
  });
  after(async () => fx.teardown());

  it('runs the container to its end (what it writes there dropped) and removes it', async () => {
    const { command, args: lead } = strataCommand();
    const script = 'i=0; while [ $i -lt 20000 ]; do echo line$i >&2; i=$((i+1)); done; echo done';
    const child = spawn(command, [...lead, 'run', '--rm', '--name', 'noisy', 'busybox', 'sh', '-c', script], { env: { ...process.env, STRATA_ROOT: fx.root }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr.destroy();
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.deepEqual([code, stdout], [0, 'done\n']);
    assert.equal(fx.strata(['ps', '-a', '-q']).stdout, '');
  });
});
