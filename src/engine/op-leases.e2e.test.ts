// `load`, `pull` and `commit` hold leases (store/leases.ts) on what they write or find already
// here, until the index names their image: a concurrent `image prune -a` / `cache prune -a`
// cannot delete it, however long the operation takes. Each operation is stopped at a failpoint
// (STRATA_FAILPOINT=NAME:stop, no timers), the store's blobs and layers are aged past the
// collector's one-hour grace (as if the operation had run that long, or reused old layers), both
// prunes run, and the operation is let go on: its image must be whole (`system check`) and usable.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeHashPool } from '../hash/pool.js';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, spawnStrata, tempDir } from '../testing/cli.js';
import { eventually } from '../testing/lifecycle-fixture.js';
import { registryAvailable, startRegistry, type TestRegistry } from '../registry/testing/registry-server.js';

const root0 = process.getuid?.() === 0;

function ok(r: { status: number; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** The process's state letter in /proc/PID/stat ("T" when stopped), or undefined once gone. */
function procState(pid: number): string | undefined {
  try {
    return /^\d+ \(.*\) (\S)/s.exec(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Every blob and layer of the root dated two hours back: past the collector's grace period. */
function ageStore(root: string): number {
  const old = new Date(Date.now() - 2 * 3_600_000);
  let n = 0;
  for (const dir of [path.join(root, 'blobs', 'sha256'), path.join(root, 'layers')]) {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      fs.lutimesSync(path.join(dir, name), old, old);
      n++;
    }
  }
  return n;
}

/**
 * Runs `strata ARGS` stopped at `point`, runs both prunes (over aged files) meanwhile, lets it
 * finish; returns its result.
 */
async function pruneDuring(root: string, args: string[], point: string, env: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const child = spawnStrata(args, { root, env: { ...env, STRATA_FAILPOINT: `${point}:stop` } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end();
  const closed = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 128)));
  try {
    await eventually(() => procState(child.pid!) === 'T' || (child.exitCode !== null && Promise.reject(new Error(`${args[0]} exited before ${point}: ${stderr}`))), 600, 100);
    assert.ok(ageStore(root) > 0);
    ok(runStrata(['image', 'prune', '-a', '-f'], { root, env }), 'image prune -a');
    ok(runStrata(['cache', 'prune', '-a', '-f'], { root, env }), 'cache prune -a');
  } finally {
    child.kill('SIGCONT');
  }
  return { status: await closed, stdout, stderr };
}

function assertWhole(root: string, image: string, env: NodeJS.ProcessEnv = {}): void {
  ok(runStrata(['system', 'check'], { root, env }), 'system check');
  const out = ok(runStrata(['run', '--rm', image, 'cat', '/etc/passwd'], { root, env }), 'run');
  assert.match(out, /^root:/);
}

describe('leases of load, pull and commit against a concurrent prune', { skip: !root0 && 'needs root (runc)', concurrency: false }, () => {
  let t: ReturnType<typeof tempDir>;
  let src: string;
  before(async () => {
    t = tempDir('strata-op-leases-');
    src = path.join(t.dir, 'src');
    await ensureBusybox(await openStore(src));
  });
  after(async () => {
    await closeHashPool();
    t.cleanup();
  });

  it('load: the layers it imported stay until its image is tagged', async () => {
    const archive = path.join(t.dir, 'bb.tar');
    ok(runStrata(['save', '-o', archive, 'busybox'], { root: src }), 'save');
    const root = path.join(t.dir, 'load');
    const r = await pruneDuring(root, ['load', '-i', archive], 'load.layer-imported');
    assert.equal(r.status, 0, r.stderr);
    assertWhole(root, 'busybox');
    assert.deepEqual(fs.readdirSync(path.join(root, 'leases')).filter((n) => n.endsWith('.json')), [], 'the lease is released');
  });

  it('commit: the new layer and the base image stay until the image is written', async () => {
    const root = path.join(t.dir, 'commit');
    await ensureBusybox(await openStore(root));
    ok(runStrata(['run', '--name', 'c1', 'busybox', 'sh', '-c', 'echo hi > /made'], { root }), 'run');
    const r = await pruneDuring(root, ['commit', 'c1', 'localhost/committed:1'], 'commit.layer-written');
    assert.equal(r.status, 0, r.stderr);
    assertWhole(root, 'localhost/committed:1');
    assert.equal(ok(runStrata(['run', '--rm', 'localhost/committed:1', 'cat', '/made'], { root }), 'run').trim(), 'hi');
    ok(runStrata(['rm', 'c1'], { root }), 'rm');
  });

  describe('pull', { skip: !registryAvailable && 'needs docker-registry' }, () => {
    let reg: TestRegistry;
    before(async () => {
      reg = await startRegistry();
    });
    after(async () => {
      await reg?.close();
    });

    it('pull: the blobs and layers it fetched stay until its image is written', async () => {
      const ref = `${reg.host}/lib/bb:1`;
      ok(runStrata(['tag', 'busybox', ref], { root: src }), 'tag');
      ok(runStrata(['push', ref], { root: src }), 'push');
      const root = path.join(t.dir, 'pull');
      const r = await pruneDuring(root, ['pull', ref], 'pull.before-image');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Pull complete/);
      assertWhole(root, ref);
    });
  });
});
