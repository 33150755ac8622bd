import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../testing/cli.js';
import { createVolume, findVolume, getVolume, listVolumes } from '../../store/volumes.js';
import { removeUnusedVolume } from '../volume-users.js';
import { inheritMounts, parseMountFlag, parseVolumeFlag, populateVolumes, resolveContainerMounts, resolveInRoot, toMountSpecs, volumesOf } from './mounts.js';

describe('volume store', () => {
  // The refusal of a volume a container uses: `volume rm` in cli/lifecycle-more.test.ts, with a real container.
  it('creates, lists, removes', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const v = createVolume(dir, { name: 'data' });
      assert.equal(v.Mountpoint, path.join(dir, 'volumes', 'data', '_data'));
      assert.equal(fs.statSync(v.Mountpoint).isDirectory(), true);
      assert.deepEqual(createVolume(dir, { name: 'data' }), v, 'create is idempotent');
      const anon = createVolume(dir);
      assert.match(anon.Name, /^[0-9a-f]{64}$/);
      assert.equal(anon.Anonymous, true);
      assert.deepEqual(listVolumes(dir).map((x) => x.Name).sort(), [anon.Name, 'data'].sort());
      assert.deepEqual(await removeUnusedVolume(dir, 'data'), []);
      assert.equal(findVolume(dir, 'data'), undefined);
      assert.throws(() => getVolume(dir, 'data'), /no such volume: "data"/);
      assert.throws(() => createVolume(dir, { name: '../evil' }), /invalid volume name "..\/evil"/);
    } finally {
      cleanup();
    }
  });
});

describe('mount flags', () => {
  it('parses -v and --mount forms', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.mkdirSync(path.join(dir, 'www'));
      assert.deepEqual(parseVolumeFlag('./www:/www:ro', dir), { type: 'bind', source: fs.realpathSync(path.join(dir, 'www')), destination: '/www', readonly: true });
      assert.deepEqual(parseVolumeFlag('cache:/var/cache/', dir), { type: 'volume', name: 'cache', destination: '/var/cache', readonly: false, anonymous: false, copy: true });
      assert.equal(parseVolumeFlag('/data', dir).type, 'volume');
      assert.deepEqual(parseMountFlag('type=tmpfs,dst=/run,tmpfs-size=1m', dir), { type: 'tmpfs', destination: '/run', options: ['noexec', 'nosuid', 'nodev', 'size=1048576'] });
      assert.deepEqual(parseMountFlag(`type=bind,src=${dir}/www,target=/w,readonly`, dir), { type: 'bind', source: fs.realpathSync(path.join(dir, 'www')), destination: '/w', readonly: true });
      assert.throws(() => parseMountFlag(`type=bind,src=${dir}/missing,dst=/w`, dir), /bind source path does not exist/);
      assert.throws(() => parseVolumeFlag('x:relative', dir), /container path "relative" is not absolute/);
      assert.throws(() => parseVolumeFlag('x:/a:rx', dir), /unknown option "rx"/);
      assert.throws(() => parseMountFlag('type=nfs,dst=/a', dir), /unknown type "nfs"/);
    } finally {
      cleanup();
    }
  });

  it('refuses --mount keys it does not know or does not do, and bad values, as Docker does', () => {
    const { dir, cleanup } = tempDir();
    try {
      const bind = `type=bind,src=${dir},dst=/b`;
      assert.throws(() => parseMountFlag(`${bind},bogus=1`, dir), /invalid mount spec ".*": unexpected key "bogus"$/);
      assert.throws(() => parseMountFlag(`${bind},bind-propagation=rshared`, dir), /"bind-propagation" is not supported/);
      assert.throws(() => parseMountFlag('type=volume,src=v,dst=/v,volume-subpath=a', dir), /"volume-subpath" is not supported/);
      // The fields are CSV, as docker/cli reads them: a quoted volume-opt holds o's commas.
      assert.deepEqual(parseMountFlag('type=volume,dst=/v,volume-label=a=b,"volume-opt=o=size=1m,uid=1",volume-opt=type=tmpfs,volume-opt=device=tmpfs', dir), {
        type: 'volume', name: '', destination: '/v', readonly: false, anonymous: true, copy: true,
        labels: { a: 'b' }, driverOptions: { device: 'tmpfs', o: 'size=1m,uid=1', type: 'tmpfs' },
      });
      assert.throws(() => parseMountFlag('type=volume,dst=/v,volume-driver=rexray', dir), /volume driver "rexray" is not supported: only "local"$/);
      assert.throws(() => parseMountFlag('type=volume,dst=/v,volume-opt=type=none', dir), /invalid mount spec ".*": missing required option: "device"$/);
      assert.throws(() => parseMountFlag('type=volume,dst=/v,volume-opt="o=a"', dir), /bare " in non-quoted-field$/);
      assert.throws(() => parseMountFlag(`${bind},target`, dir), /field "target" must be a key=value pair/);
      assert.throws(() => parseMountFlag('type=volume,dst=/v,readonly=banana', dir), /invalid value for "readonly": "banana"/);
      assert.throws(() => parseMountFlag('type=volume,dst=/v,volume-nocopy=maybe', dir), /invalid value for "volume-nocopy": "maybe"/);
      assert.throws(() => parseMountFlag(`${bind},volume-nocopy`, dir), /cannot mix "volume-\*" options with mount type "bind"/);
      assert.throws(() => parseMountFlag('type=volume,dst=/v,tmpfs-size=1m', dir), /cannot mix "tmpfs-\*" options with mount type "volume"/);
      assert.throws(() => parseMountFlag('type=tmpfs,dst=/t,tmpfs-mode=rwx', dir), /invalid value for "tmpfs-mode": "rwx"/);
      assert.throws(() => parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=lots', dir), /invalid value for "tmpfs-size": "lots"/);
      assert.equal((parseMountFlag(`${bind},readonly=0,consistency=cached`, dir) as { readonly: boolean }).readonly, false);
      assert.equal((parseMountFlag(`${bind},ro=true`, dir) as { readonly: boolean }).readonly, true);
      assert.equal((parseMountFlag('type=volume,src=v,dst=/v,volume-nocopy=false', dir) as { copy: boolean }).copy, true);
      assert.deepEqual(parseMountFlag('type=tmpfs,dst=/t,tmpfs-size=1.5GiB,tmpfs-mode=01770', dir),
        { type: 'tmpfs', destination: '/t', options: ['noexec', 'nosuid', 'nodev', `size=${1.5 * 1024 ** 3}`, 'mode=1770'] });
      assert.deepEqual(inheritMounts('c:ro', [{ type: 'tmpfs', destination: '/t', options: [] }, { type: 'volume', name: 'v', destination: '/v', readonly: false, anonymous: true, copy: true }]),
        [{ type: 'volume', name: 'v', destination: '/v', readonly: true, anonymous: false, copy: false }]);
    } finally {
      cleanup();
    }
  });

  it('resolves bind sources through symlinks once and refuses a symlink swapped in later', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.mkdirSync(path.join(dir, 'real', 'www'), { recursive: true });
      fs.mkdirSync(path.join(dir, 'secret'));
      fs.symlinkSync('real', path.join(dir, 'link'));
      const [m] = resolveContainerMounts({ root: dir, cwd: dir, volumes: [`${dir}/link/www:/www`] });
      assert.equal(m!.type === 'bind' && m!.source, fs.realpathSync(path.join(dir, 'real', 'www')));
      assert.equal(toMountSpecs(dir, [m!])[0]!.type, 'bind');
      // Swap the resolved directory for a symlink to somewhere else: refused at start.
      fs.renameSync(path.join(dir, 'real', 'www'), path.join(dir, 'real', 'old'));
      fs.symlinkSync(path.join(dir, 'secret'), path.join(dir, 'real', 'www'));
      assert.throws(() => toMountSpecs(dir, [m!]), /became a symlink after the container was created/);
    } finally {
      cleanup();
    }
  });

  it('creates named and anonymous volumes, image VOLUMEs overridden by flags', () => {
    const { dir, cleanup } = tempDir();
    try {
      const mounts = resolveContainerMounts({ root: dir, cwd: dir, imageVolumes: ['/data', '/logs'], volumes: ['named:/logs'] });
      assert.equal(mounts.length, 2);
      assert.deepEqual(volumesOf(mounts, 'all').length, 2);
      assert.equal(volumesOf(mounts, 'anonymous').length, 1);
      assert.ok(findVolume(dir, 'named'));
      const specs = toMountSpecs(dir, mounts);
      assert.ok(specs.every((s) => s.type === 'bind' && s.source.startsWith(path.join(dir, 'volumes'))));
    } finally {
      cleanup();
    }
  });
});

describe('volume copy-up', () => {
  it('fills an empty volume from the merged image layers once, honouring whiteouts', () => {
    const { dir, cleanup } = tempDir();
    try {
      const lower1 = path.join(dir, 'l1');
      const lower2 = path.join(dir, 'l2');
      fs.mkdirSync(path.join(lower1, 'data'), { recursive: true });
      fs.writeFileSync(path.join(lower1, 'data', 'a'), 'A');
      fs.writeFileSync(path.join(lower1, 'data', 'gone'), 'G');
      fs.mkdirSync(path.join(lower2, 'data'), { recursive: true });
      fs.writeFileSync(path.join(lower2, 'data', 'b'), 'B');
      execFileSync('mknod', [path.join(lower2, 'data', 'gone'), 'c', '0', '0']);
      fs.symlinkSync('/data', path.join(lower2, 'alias'));
      const mounts = resolveContainerMounts({ root: dir, cwd: dir, imageVolumes: ['/alias'] });
      populateVolumes(dir, mounts, [lower1, lower2]);
      const data = toMountSpecs(dir, mounts)[0]!;
      assert.ok(data.type === 'bind');
      assert.deepEqual(fs.readdirSync(data.source).sort(), ['a', 'b']);
      // Emptied by the container later: not filled again.
      for (const f of fs.readdirSync(data.source)) fs.rmSync(path.join(data.source, f));
      populateVolumes(dir, mounts, [lower1, lower2]);
      assert.deepEqual(fs.readdirSync(data.source), []);
    } finally {
      cleanup();
    }
  });

  it('resolves paths inside a root without escaping it', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.mkdirSync(path.join(dir, 'r', 'etc'), { recursive: true });
      fs.symlinkSync('../../../../..', path.join(dir, 'r', 'up'));
      fs.symlinkSync('/etc', path.join(dir, 'r', 'abs'));
      assert.equal(resolveInRoot(path.join(dir, 'r'), '/up/etc'), path.join(dir, 'r', 'etc'));
      assert.equal(resolveInRoot(path.join(dir, 'r'), '/abs'), path.join(dir, 'r', 'etc'));
      assert.equal(resolveInRoot(path.join(dir, 'r'), '/missing'), undefined);
    } finally {
      cleanup();
    }
  });
});
