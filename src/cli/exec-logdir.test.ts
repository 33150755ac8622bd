// `exec` keeps runc's log in the state root's tmp/ under its owner's name (not in /tmp): while it
// runs the dir is there and named after the exec's process; when it ends the dir is gone; a dir
// a killed exec left behind is swept by the next command.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeHashPool } from '../hash/pool.js';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, spawnStrata, tempDir } from '../testing/cli.js';
import { eventually } from '../testing/lifecycle-fixture.js';

const ok = (r: { status: number; stdout: string; stderr: string }, what: string) => {
  assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
};
const execDirs = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.exec')) : []);
const hostTmpExec = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('strata-exec-'));

describe('exec runc log dir', { skip: process.getuid?.() !== 0 && 'needs root (runc)' }, () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  before(async () => {
    t = tempDir('strata-exec-logdir-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    ok(runStrata(['run', '-d', '--name', 'cx', 'busybox', 'sleep', '600'], { root }), 'run -d');
  });
  after(async () => {
    runStrata(['rm', '-f', 'cx'], { root });
    await closeHashPool();
    t.cleanup();
  });

  it('lives in the state root under the exec process\'s name while it runs, and goes with it', async () => {
    const before = new Set(hostTmpExec());
    const child = spawnStrata(['exec', '-i', 'cx', 'cat'], { root });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const closed = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 128)));
    const tmp = path.join(root, 'tmp');
    const [mine] = await eventually(() => {
      const d = execDirs(tmp);
      return d.length ? d : undefined;
    }, 300, 100);
    assert.match(mine!, new RegExp(`^\\.tmp-${child.pid}\\.\\d+-[0-9a-f]+\\.exec$`), 'named after the exec process (pid.start)');
    assert.deepEqual(hostTmpExec().filter((n) => !before.has(n)), [], 'nothing in /tmp');
    child.stdin.end('through\n');
    assert.equal(await closed, 0);
    assert.equal(out, 'through\n');
    assert.deepEqual(execDirs(tmp), [], 'removed when the exec ends');
  });

  it('a dir a killed exec left is swept by the next command; a live owner\'s is not', () => {
    const tmp = path.join(root, 'tmp');
    // pid 2^22+1 is above Linux's pid_max: never a live process.
    const dead = path.join(tmp, `.tmp-${2 ** 22 + 1}.1-deadbeef0000.exec`);
    const live = path.join(tmp, `.tmp-${process.pid}.0-livebeef0000.exec`);
    for (const d of [dead, live]) {
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'runc.log'), '');
    }
    ok(runStrata(['ps'], { root }), 'ps');
    assert.equal(fs.existsSync(dead), false, 'the dead owner\'s dir is swept');
    assert.equal(fs.existsSync(live), true, 'a live owner\'s dir stays');
    fs.rmSync(live, { recursive: true });
  });
});
