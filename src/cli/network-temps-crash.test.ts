// The temp files of network writes after a kill -9 (failpoints, src/failpoint.ts): a network or
// endpoint record and a subnet claim are each written to a temp file named after its writer
// (`.tmp-PID.START-*`), then renamed. A writer killed in between leaves its temp; `system check`
// names it and the next command removes it. A live writer's temp (a writer stopped there) is
// kept by the same sweeps: let go, it completes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NETWORK_MACHINE_DIR, sweepClaimTemps } from '../runtime/index.js';
import { sweepStoreLeftovers } from '../store/index.js';
import { spawnStrata } from '../testing/cli.js';
import { runUntilKilled, waitStopped } from '../testing/faults.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

let fx: LifecycleFixture;

const claimsDir = path.join(NETWORK_MACHINE_DIR, 'claims');
const claimTemps = () => (fs.existsSync(claimsDir) ? fs.readdirSync(claimsDir) : []).filter((n) => n.startsWith('.tmp-')).map((n) => path.join(claimsDir, n));

/** The temp files in the root's network dirs and their endpoints/ dirs. */
function recordTemps(): string[] {
  const dir = path.join(fx.root, 'networks');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((d) => /^[0-9a-f]{64}$/.test(d)).flatMap((id) => [path.join(dir, id), path.join(dir, id, 'endpoints')])
    .flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).filter((n) => n.startsWith('.tmp-')).map((n) => path.join(d, n)) : []));
}

/** Runs strata ARGS stopped at POINT (`NAME:stop`); returns the child once it is stopped. */
async function stoppedAt(args: string[], point: string) {
  const child = spawnStrata(args, { root: fx.root, env: { STRATA_FAILPOINT: `${point}:stop` } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await waitStopped(child.pid!, `${args.join(' ')} stopped at ${point}`);
  const finish = async () => {
    child.kill('SIGCONT');
    return { code: await closed, stderr };
  };
  return { child, finish };
}

describe('temp files of network writes after a kill -9', { timeout: 300_000 }, () => {
  before(async () => {
    fx = await lifecycleFixture();
    fx.ok(['network', 'ls']); // the default network's bridge and claim: made before any kill
  });
  after(async () => {
    await fx?.teardown();
  });

  it('a network record\'s temp of a killed `network create` is named by `system check` and gone after the next command', async () => {
    await runUntilKilled(['network', 'create', 'halfwritten'], { root: fx.root, point: 'net.record-written' });
    const left = recordTemps();
    assert.equal(left.length, 1, 'killed with its record in a temp file');
    assert.match(path.basename(left[0]!), /^\.tmp-\d+\.\d+-[0-9a-f]+$/, 'named after its writer: pid and start time');
    const check = fx.strata(['system', 'check']);
    assert.ok(check.stdout.includes(`leftover: "${left[0]}": left by a writer that is gone`), check.stdout);
    assert.doesNotMatch(fx.ok(['network', 'ls']), /halfwritten/);
    assert.deepEqual(recordTemps(), []);
    assert.ok(!fs.existsSync(path.dirname(left[0]!)), 'nor the dir of the network that was never made');
    fx.ok(['network', 'create', 'halfwritten']);
    fx.ok(['network', 'rm', 'halfwritten']);
  });

  it('an endpoint record\'s temp of a killed `run` is gone after the next command', async () => {
    fx.ok(['network', 'create', 'epnet']);
    await runUntilKilled(['run', '--rm', '--network', 'epnet', 'busybox', 'true'], { root: fx.root, point: 'net.record-written', group: true });
    const left = recordTemps();
    assert.equal(left.length, 1, 'killed with its endpoint in a temp file');
    assert.equal(path.basename(path.dirname(left[0]!)), 'endpoints');
    // The next command (its output: the containers to remove after).
    const ids = fx.ok(['ps', '-aq']).split('\n').filter(Boolean);
    assert.deepEqual(recordTemps(), []);
    if (ids.length) fx.ok(['rm', '-f', ...ids]);
    fx.ok(['network', 'rm', 'epnet']);
  });

  it('a live writer\'s record temp is kept by the sweeps; let go, its `network create` completes', async () => {
    const { finish } = await stoppedAt(['network', 'create', 'liverecord'], 'net.record-written');
    try {
      const live = recordTemps();
      assert.equal(live.length, 1, 'stopped with its record in a temp file');
      // The store's sweep takes no lock (a command's network sweep would wait for the stopped create's).
      await sweepStoreLeftovers(fx.root);
      assert.deepEqual(recordTemps(), live, 'kept: its writer is alive');
      assert.doesNotMatch(fx.strata(['system', 'check']).stdout, /\.tmp-/);
    } finally {
      const { code, stderr } = await finish();
      assert.equal(code, 0, stderr);
    }
    assert.match(fx.ok(['network', 'ls']), /liverecord/);
    fx.ok(['network', 'rm', 'liverecord']);
  });

  it('a subnet claim\'s temp of a killed `network create` is named by `system check` and gone after the next command', async () => {
    const before = new Set(claimTemps());
    // Seen while the writer is stopped there (kept by every sweep while it lives), then killed:
    // looked for after the kill, a concurrent test's command may have swept it already.
    const { child } = await stoppedAt(['network', 'create', 'halfclaimed'], 'net.claim-written');
    const left = claimTemps().filter((p) => !before.has(p));
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.once('close', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    assert.equal(await closed, 'SIGKILL');
    assert.equal(left.length, 1, 'stopped with its claim in a temp file');
    assert.match(path.basename(left[0]!), new RegExp(`^\\.tmp-${child.pid}\\.\\d+-[0-9a-f]+$`), 'named after its writer: pid and start time');
    // Any root's command sweeps the machine's claims: another test's may have been first.
    const check = fx.strata(['system', 'check']);
    if (!check.stdout.includes(`leftover: "${left[0]}": a temp file of a subnet claim, left by a writer that is gone`)) {
      assert.ok(!fs.existsSync(left[0]!), `not named while still there: ${check.stdout}`);
    }
    assert.doesNotMatch(fx.ok(['network', 'ls']), /halfclaimed/);
    assert.ok(!fs.existsSync(left[0]!));
  });

  it('record and claim temps of older strata (no writer\'s start time in their names) are gone once a command holds the locks', () => {
    const netId = fx.ok(['network', 'create', 'legacy']).trim();
    const dir = path.join(fx.root, 'networks', netId);
    const old = [path.join(dir, 'network.json.tmp-4194301-0badcafe'), path.join(dir, 'endpoints', `${'ab'.repeat(32)}.json.tmp-4194301-deadbeef`)];
    for (const p of old) fs.writeFileSync(p, '{"half":');
    fx.ok(['network', 'ls']);
    assert.deepEqual(old.filter((p) => fs.existsSync(p)), []);
    // A claim's: written under the machine's lock, swept by the next holder of it (a create).
    const claim = path.join(claimsDir, 'sbleakstest0.json.tmp-deadbeef');
    fs.writeFileSync(claim, '{"bridge":');
    fx.ok(['network', 'create', 'legacy2']);
    assert.ok(!fs.existsSync(claim));
    fx.ok(['network', 'rm', 'legacy', 'legacy2']);
  });

  it('a live writer\'s claim temp is kept by the sweep; let go, its `network create` completes', async () => {
    const before = new Set(claimTemps());
    const { finish } = await stoppedAt(['network', 'create', 'liveclaim'], 'net.claim-written');
    try {
      const live = claimTemps().filter((p) => !before.has(p));
      assert.equal(live.length, 1, 'stopped with its claim in a temp file');
      // The sweep a command runs takes no lock (a command's network sweep may wait for the machine's, which the stopped create holds).
      await sweepClaimTemps();
      assert.ok(fs.existsSync(live[0]!), 'kept: its writer is alive');
      assert.ok(!fx.strata(['system', 'check']).stdout.includes(live[0]!), 'nor named by system check');
    } finally {
      const { code, stderr } = await finish();
      assert.equal(code, 0, stderr);
    }
    assert.match(fx.ok(['network', 'ls']), /liveclaim/);
    fx.ok(['network', 'rm', 'liveclaim']);
  });
});
