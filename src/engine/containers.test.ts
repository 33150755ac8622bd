// The Containers service as a TypeScript program uses it (no CLI): a container created,
// started under its shim, waited for, its logs, list with filters, inspect, diff, top, stats,
// commit, a foreground run, rm and prune, on a private state root with real runc.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/index.js';
import { ensureBusybox } from '../testing/busybox.js';
import { tempDir } from '../testing/cli.js';
import { eventually, processesMentioning } from '../testing/lifecycle-fixture.js';
import { Containers } from './index.js';

describe('the Containers service', { concurrency: false }, () => {
  let root: { dir: string; cleanup: () => void };
  let service: Containers;
  before(async () => {
    root = tempDir('strata-svc-');
    await ensureBusybox(await openStore(root.dir));
    service = new Containers(root.dir);
  });
  after(async () => {
    try {
      for (const e of await service.list({ all: true })) await service.remove(e.record.Id, { force: true, volumes: true }).catch(() => undefined);
      // Shims leave shortly after their container.
      await eventually(() => processesMentioning(root.dir).length === 0, 50);
    } finally {
      root.cleanup();
    }
  });

  it('creates, starts, waits, lists with filters, reads logs, inspects, diffs and commits', async () => {
    const record = await service.create({ image: 'busybox', name: 'svc1', command: ['sh', '-c', 'echo hello; echo made > /made; exit 3'], labels: ['team=a'], restart: 'no' });
    assert.equal((await service.list()).length, 0, 'not running: not listed without all');
    await service.start(record.Id);
    assert.equal(await service.wait('svc1'), 3);
    let out = '';
    await service.logs('svc1', {}, (_stream, text) => (out += text));
    assert.equal(out, 'hello\n');
    const exited = await service.list({ filters: ['exited=3', 'label=team=a'] });
    assert.deepEqual(exited.map((e) => [e.record.Name, e.state.Status, e.state.ExitCode]), [['/svc1', 'exited', 3]]);
    assert.deepEqual(await service.list({ filters: ['exited=0'] }), []);
    await assert.rejects(service.list({ filters: ['color=red'] }), /invalid filter "color"/);
    const info = await service.inspect('svc1') as { Name: string; HostConfig: { RestartPolicy: unknown }; State: { ExitCode: number } };
    assert.deepEqual([info.Name, info.State.ExitCode, info.HostConfig.RestartPolicy], ['/svc1', 3, { Name: 'no', MaximumRetryCount: 0 }]);
    assert.deepEqual(await service.diff('svc1'), [{ kind: 'A', path: '/made' }]);
    const image = await service.commit('svc1', { ref: 'svc-made:1', changes: ['CMD ["cat", "/made"]'] });
    assert.match(image.id, /^sha256:[0-9a-f]{64}$/);
    const again = await service.create({ image: 'svc-made:1' });
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d) => (text += d));
    assert.equal(await service.runForeground(again, { stdin: 'null', terminal: false, stdout, stderr: process.stderr }), 0);
    assert.equal(text, 'made\n');
  });

  it('runs top and stats on a running container, refuses rm without force, stops and prunes', async () => {
    const record = await service.create({ image: 'busybox', name: 'svc2', command: ['sleep', '300'], pidsLimit: '30' });
    await service.start(record);
    await eventually(() => service.state(record).Running);
    const top = await service.top('svc2', ['-o', 'pid,args']);
    assert.deepEqual([top.titles, top.processes.map((p) => p[1])], [['PID', 'COMMAND'], ['sleep 300']]);
    const stats = await service.stats('svc2');
    assert.equal(stats?.pids, 1);
    await assert.rejects(service.remove('svc2'), /cannot remove container "svc2": container is running: stop the container before removing or force remove/);
    await service.stop('svc2', { timeout: 1 });
    assert.equal(service.state(await service.get('svc2')).Running, false);
    assert.equal(await service.stats('svc2'), undefined);
    await assert.rejects(service.top('svc2'), /is not running/);
    const pruned = await service.prune();
    assert.ok(pruned.removed.includes(record.Id));
    assert.equal((await service.list({ all: true })).length, 0);
  });
});
