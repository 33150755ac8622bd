// SIGINT and SIGTERM: to `build`, they stop its container and release everything it held before
// strata exits 130 or 143 (as Docker's); to a foreground `run`, Ctrl-C ends the container (as its
// process would have ended outside a container) and records Exited (130).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, spawnStrata, tempDir } from '../testing/cli.js';
import { assertNoLeftovers, assertStoreIntact, eventually, processesRunning } from '../testing/faults.js';

/** Resolves with the child's exit status (or signal) once it has printed `text` and been sent `signals` (one by one). */
async function signalWhen(child: ChildProcess, text: string, signals: NodeJS.Signals[]): Promise<{ status: number | null; signal?: NodeJS.Signals | null; out: string }> {
  let out = '';
  let sent = false;
  const onData = (d: Buffer) => {
    out += d.toString();
    if (sent || !out.includes(text)) return;
    sent = true;
    signals.forEach((s, i) => setTimeout(() => child.kill(s), i * 700));
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (code, sig) => resolve([code, sig])));
  return { status, signal, out };
}

describe('signals', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  const strata = (args: string[]) => runStrata(args, { root });

  before(async () => {
    t = tempDir('strata-signals-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
  });
  after(() => t.cleanup());

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} to build stops its RUN container, releases what it held and exits ${code}`, async () => {
      const ctx = path.join(t.dir, `ctx-${signal}`);
      fs.mkdirSync(ctx);
      const sleeper = ['sleep', String(86380 + code)];
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nRUN echo started; ${sleeper.join(' ')}\n`);
      const r = await signalWhen(spawnStrata(['build', '--progress', 'plain', ctx], { root }), 'started', [signal]);
      assert.equal(r.status, code, r.out);
      assert.match(r.out, /^Error: build cancelled$/m);
      assert.deepEqual(processesRunning(sleeper), [], 'the container is gone when the build exits');
      // Released by the build itself, before it exited: no sweep has run.
      await assertNoLeftovers(root);
      await assertStoreIntact(root);
    });
  }

  it('Ctrl-C ends a foreground run whose process ignores it (as pid 1 does) and records Exited (130)', async () => {
    const r = await signalWhen(spawnStrata(['run', '--name', 'fg', 'busybox', 'sh', '-c', 'echo up; exec sleep 86379'], { root }), 'up', ['SIGINT']);
    assert.equal(r.status, 130, r.out);
    assert.ok(await eventually(() => processesRunning(['sleep', '86379']).length === 0));
    assert.match(strata(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout, /^fg Exited \(130\)/m);
    assert.equal(strata(['inspect', '--format', '{{.State.ExitCode}}', 'fg']).stdout.trim(), '130');
  });

  it('a process that catches Ctrl-C handles it; a second Ctrl-C ends it', async () => {
    // A --rm run's output is ours alone: its namespace's holder became runc (RunOptions.launch),
    // which must get the signal as a runc we spawned would.
    const handled = await signalWhen(spawnStrata(['run', '--rm', 'busybox', 'sh', '-c', 'trap "echo bye; exit 3" INT; echo up; sleep 86378 & wait'], { root, env: { STRATA_TIMING: '1' } }), 'up', ['SIGINT']);
    assert.equal(handled.status, 3, handled.out);
    assert.match(handled.out, /^bye$/m);
    assert.match(handled.out, /^timing: runc launched /m);
    const stubborn = await signalWhen(spawnStrata(['run', '--rm', 'busybox', 'sh', '-c', 'trap "echo not yet" INT; echo up; while :; do sleep 1 & wait; done'], { root }), 'up', ['SIGINT', 'SIGINT']);
    assert.equal(stubborn.status, 130, stubborn.out);
    assert.match(stubborn.out, /^not yet$/m);
  });

  it('with --sig-proxy=false, Ctrl-C ends the client, not the container (Docker\'s)', async () => {
    try {
      const r = await signalWhen(spawnStrata(['run', '--sig-proxy=false', '--name', 'unproxied', 'busybox', 'sh', '-c', 'echo up; exec sleep 86376'], { root }), 'up', ['SIGINT']);
      assert.equal(r.signal, 'SIGINT', r.out);
      assert.equal(strata(['inspect', '--format', '{{.State.Status}}', 'unproxied']).stdout, 'running\n');
      assert.equal(strata(['stop', '-t', '0', 'unproxied']).status, 0);
    } finally {
      strata(['rm', '-f', 'unproxied']);
    }
  });

  it('SIGTERM to a foreground run ends it with 143', async () => {
    const r = await signalWhen(spawnStrata(['run', '--name', 'termed', 'busybox', 'sh', '-c', 'echo up; exec sleep 86377'], { root }), 'up', ['SIGTERM']);
    assert.equal(r.status, 143, r.out);
    assert.match(strata(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout, /^termed Exited \(143\)/m);
  });
});
