import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../testing/cli.js';
import { ContainerStore } from './containers.js';
import { mountsUnder } from './remove-tree.js';
import { initialState, newContainerId, type ContainerRecord } from './container-record.js';

function record(name: string, id = newContainerId()): ContainerRecord {
  return {
    Id: id, Name: `/${name}`, Created: new Date().toISOString(), Path: 'sh', Args: [], State: initialState(),
    Image: `sha256:${'0'.repeat(64)}`,
    Config: { Hostname: id.slice(0, 12), Image: 'busybox', Tty: false, OpenStdin: false, AttachStdin: false, AttachStdout: true, AttachStderr: true, StdinOnce: false },
    HostConfig: { Binds: [], Memory: 0, NetworkMode: 'default', AutoRemove: false, ReadonlyRootfs: false, GroupAdd: [] },
    Mounts: [], RestartCount: 0, Driver: 'overlay', Platform: 'linux', Strata: { layers: [] },
  };
}

describe('ContainerStore', () => {
  it('finds containers by ID, name and unique prefix', async () => {
    const t = tempDir();
    try {
      const store = new ContainerStore(t.dir);
      const a = record('alpha', 'ab' + '1'.repeat(62));
      const b = record('beta', 'ac' + '2'.repeat(62));
      await store.create(a);
      await store.create(b);
      assert.equal((await store.get(a.Id)).Name, '/alpha');
      assert.equal((await store.get('beta')).Id, b.Id);
      assert.equal((await store.get('ab')).Id, a.Id);
      await assert.rejects(store.get('a'), /multiple IDs found with provided prefix: a/);
      await assert.rejects(store.get('gamma'), /no such container: "gamma"/);
      assert.equal((await store.list()).length, 2);
    } finally {
      t.cleanup();
    }
  });

  it('refuses a taken name and frees it on rename and remove', async () => {
    const t = tempDir();
    try {
      const store = new ContainerStore(t.dir);
      const a = record('web');
      await store.create(a);
      await assert.rejects(store.create(record('web')), /the container name "\/web" is already in use by container/);
      await store.rename(a.Id, 'web2');
      await store.create(record('web'));
      await assert.rejects(store.rename(a.Id, 'web'), /already in use/);
      assert.equal((await store.get('web2')).Id, a.Id);
      await store.remove(a.Id);
      await store.create(record('web2'));
      assert.throws(() => store.paths('../../etc'), /invalid container ID/);
      await assert.rejects(store.create(record('-bad')), /invalid container name/);
    } finally {
      t.cleanup();
    }
  });

  it('gives a name to exactly one of many concurrent processes', async () => {
    const t = tempDir();
    try {
      const here = path.dirname(fileURLToPath(import.meta.url));
      const ts = import.meta.url.endsWith('.ts');
      const script = `
        const { ContainerStore } = await import(${JSON.stringify(path.join(here, `containers.${ts ? 'ts' : 'js'}`))});
        const { initialState, newContainerId } = await import(${JSON.stringify(path.join(here, `container-record.${ts ? 'ts' : 'js'}`))});
        const id = newContainerId();
        const store = new ContainerStore(process.argv[1]);
        try {
          await store.create({ Id: id, Name: '/same', Created: '', Path: 'sh', Args: [], State: initialState(), Image: '', Config: {}, HostConfig: {}, Mounts: [], RestartCount: 0, Driver: 'overlay', Platform: 'linux', Strata: { layers: [] } });
          process.stdout.write('won');
        } catch { process.stdout.write('lost'); }`;
      for (let round = 0; round < 3; round++) {
        const dir = path.join(t.dir, `round${round}`);
        const runs = Array.from({ length: 8 }, () => new Promise<string>((resolve) => {
          const child = spawn(process.execPath, [...(ts ? ['--import', 'tsx'] : []), '--input-type=module', '-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.on('close', () => resolve(out));
        }));
        const results = await Promise.all(runs);
        assert.equal(results.filter((r) => r === 'won').length, 1, results.join(','));
        assert.equal(fs.readdirSync(path.join(dir, 'containers')).filter((e) => /^[0-9a-f]{64}$/.test(e)).length, 1);
      }
    } finally {
      t.cleanup();
    }
  });

  it('frees a name whose claimant died before writing the record, and only then', async () => {
    const t = tempDir();
    try {
      const store = new ContainerStore(t.dir);
      const names = path.join(t.dir, 'containers', 'by-name');
      fs.mkdirSync(names, { recursive: true });
      const ghost = newContainerId();
      // A dead claimant (pid 2^22+1 is above any pid_max default) and no record: stale.
      fs.writeFileSync(path.join(names, 'stale'), `${ghost}\n${2 ** 22 + 1}\n`);
      await store.create(record('stale'));
      // A live claimant still creating its container: the name is taken.
      fs.writeFileSync(path.join(names, 'busy'), `${ghost}\n${process.pid}\n`);
      await assert.rejects(store.create(record('busy')), /already in use/);
    } finally {
      t.cleanup();
    }
  });

  it('claims a name whole (no temp left, win or lose), and takes over only an old empty claim', async () => {
    const t = tempDir();
    try {
      const store = new ContainerStore(t.dir);
      const names = path.join(t.dir, 'containers', 'by-name');
      const a = record('whole');
      await store.create(a);
      assert.equal(fs.readFileSync(path.join(names, 'whole'), 'utf8'), `${a.Id}\n${process.pid}\n`);
      await assert.rejects(store.create(record('whole')), new RegExp(`already in use by container "${a.Id}"`));
      assert.deepEqual(fs.readdirSync(names), ['whole'], 'no claim temp is left');
      // An empty claim (an older version killed between its create and its write): a fresh one may
      // be a claim in progress, one a few seconds old is not.
      fs.writeFileSync(path.join(names, 'empty'), '');
      await assert.rejects(store.create(record('empty')), /already in use/);
      const old = new Date(Date.now() - 60_000);
      fs.utimesSync(path.join(names, 'empty'), old, old);
      await store.create(record('empty'));
      assert.equal(await store.nameTaken('empty'), true);
    } finally {
      t.cleanup();
    }
  });

  it('removes in the background: gone at once, its files unlinked after', async () => {
    const t = tempDir();
    try {
      const store = new ContainerStore(t.dir);
      const a = record('bg');
      await store.create(a);
      fs.writeFileSync(path.join(store.paths(a.Id).upper, 'data'), 'x');
      await store.remove(a.Id, { background: true });
      assert.equal(await store.find(a.Id), undefined);
      assert.equal(await store.nameTaken('bg'), false, 'the name is free before remove() returns');
      await store.create(record('bg'));
      const leftovers = () => fs.readdirSync(store.dir).filter((e) => e.startsWith('.removing-'));
      for (let i = 0; i < 200 && leftovers().length > 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual(leftovers(), [], 'the detached rm removed the old dir');
    } finally {
      t.cleanup();
    }
  });

  it('leaves an empty container\'s remains to the next sweep, which takes only dead owners\' ones', async () => {
    const t = tempDir();
    try {
      const store = new ContainerStore(t.dir);
      const a = record('quiet');
      await store.create(a);
      await store.remove(a.Id, { background: true });
      assert.equal(await store.find(a.Id), undefined);
      const leftovers = () => fs.readdirSync(store.dir).filter((e) => e.startsWith('.removing-')).sort();
      const ours = `.removing-${a.Id}-${process.pid}`;
      assert.deepEqual(leftovers(), [ours], 'nothing written: no rm was forked');
      // One of a process that is gone, and one that does not look like a graveyard at all.
      const dead = `.removing-${'d'.repeat(64)}-999999999`;
      fs.mkdirSync(path.join(store.dir, dead, 'upper'), { recursive: true });
      fs.mkdirSync(path.join(store.dir, '.removing-not-a-container'));
      await store.sweepGraveyards();
      assert.deepEqual(leftovers(), ['.removing-not-a-container', ours].sort(), 'our own (we are alive) and the stranger stay');
    } finally {
      t.cleanup();
    }
  });

  it('never removes through a mount in a container\'s files: refused up front, left by the sweep', async () => {
    const t = tempDir();
    const foreign = path.join(t.dir, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'data'), 'not the container\'s');
    const bind = (at: string) => {
      fs.mkdirSync(at, { recursive: true });
      execFileSync('mount', ['--bind', foreign, at]);
    };
    try {
      const store = new ContainerStore(t.dir);
      const a = record('mounted');
      await store.create(a);
      fs.writeFileSync(path.join(store.paths(a.Id).upper, 'own'), 'x');
      bind(path.join(store.paths(a.Id).upper, 'm'));
      // The background removal is rm(1), which goes through mounts.
      await assert.rejects(store.remove(a.Id, { background: true }), /removing container "\w{12}": ".*\/upper\/m" is a mount point in its files: unmount it first/);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(fs.readFileSync(path.join(foreign, 'data'), 'utf8'), 'not the container\'s');
      assert.equal((await store.get('mounted')).Id, a.Id, 'the container is still there');
      const dead = path.join(store.dir, `.removing-${'d'.repeat(64)}-999999999`);
      bind(path.join(dead, 'upper', 'm'));
      await store.sweepGraveyards();
      // It holds data: a detached rm takes it over (renamed after its pid), finds the mount, stops.
      const graveyards = () => fs.readdirSync(store.dir).filter((e) => e.startsWith(`.removing-${'d'.repeat(64)}-`));
      for (let i = 0; i < 200 && graveyards()[0]?.endsWith('-999999999'); i++) await new Promise((r) => setTimeout(r, 25));
      const [adopted] = graveyards();
      assert.ok(adopted && !adopted.endsWith('-999999999'), 'taken over by the detached rm');
      const rm = Number(adopted.split('-').pop());
      for (let i = 0; i < 200 && fs.existsSync(`/proc/${rm}`); i++) await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual(graveyards(), [adopted], 'a graveyard with a mount stays');
      assert.ok(fs.existsSync(path.join(store.dir, adopted, 'upper', 'm', 'data')));
      assert.equal(fs.readFileSync(path.join(foreign, 'data'), 'utf8'), 'not the container\'s');
    } finally {
      // Wherever they are now (a removal that went ahead renamed the dir away).
      for (const m of mountsUnder(fs.realpathSync(t.dir))) spawnSync('umount', [m], { stdio: 'ignore' });
      t.cleanup();
    }
  });

  it('a create with the ID of an existing container fails and leaves that container whole', async () => {
    const t = tempDir();
    try {
      const store = new ContainerStore(t.dir);
      const a = record('first');
      await store.create(a);
      fs.writeFileSync(path.join(store.paths(a.Id).upper, 'data'), 'x');
      await assert.rejects(store.create(record('second', a.Id)), /conflict: a container with ID "[0-9a-f]{64}" already exists/);
      assert.equal((await store.get('first')).Id, a.Id);
      assert.equal(fs.readFileSync(path.join(store.paths(a.Id).upper, 'data'), 'utf8'), 'x');
      assert.equal(await store.nameTaken('second'), false, 'the claim of the failed create is released');
    } finally {
      t.cleanup();
    }
  });

  it('updates a record atomically under its lock', async () => {
    const t = tempDir();
    try {
      const store = new ContainerStore(t.dir);
      const a = record('counter');
      await store.create(a);
      await Promise.all(Array.from({ length: 20 }, () => store.update(a.Id, (r) => void (r.RestartCount += 1))));
      assert.equal((await store.get(a.Id)).RestartCount, 20);
      // A lock left by a killed process is broken; then updates go on.
      fs.writeFileSync(path.join(store.paths(a.Id).dir, 'lock'), String(2 ** 22 + 1));
      await Promise.all(Array.from({ length: 5 }, () => store.update(a.Id, (r) => void (r.RestartCount += 1))));
      assert.equal((await store.get(a.Id)).RestartCount, 25);
    } finally {
      t.cleanup();
    }
  });
});
