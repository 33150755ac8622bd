// The local driver's options (`volume create --opt`, `--mount volume-opt=`): a bind volume
// shows a host directory in its containers, and no removal (`rm -v`, `volume rm`, `volume
// prune --all`) touches that directory's files, only strata's record; a tmpfs volume is a
// tmpfs in the container and nothing on the host; what strata does not mount is refused in one
// line, before anything is made.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { lifecycleFixture, mountsUnder, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('volume driver options', { concurrency: false, timeout: 120_000 }, () => {
  let fx: LifecycleFixture;
  let device: { dir: string; cleanup: () => void };
  before(async () => {
    fx = await lifecycleFixture();
    device = tempDir('strata-volume-device-');
  });
  after(async () => {
    await fx.teardown();
    device.cleanup();
  });

  const names = () => fx.ok(['volume', 'ls', '-q']).split('\n').filter(Boolean).sort();
  const files = () => fs.readdirSync(device.dir).sort();
  const bindOpts = (dir: string) => ['--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${dir}`];

  it('refuses options strata does not mount, in one line, making nothing', () => {
    const file = path.join(device.dir, 'a-file');
    fs.writeFileSync(file, '');
    const cases: Array<[string[], string]> = [
      [['volume', 'create', '-o', 'foo=bar', 'v1'], 'creating volume "v1": invalid option: "foo"'],
      [['volume', 'create', '-o', 'o=bind', 'v1'], 'creating volume "v1": missing required option: "device"'],
      [['volume', 'create', '-o', 'size=10g', 'v1'], 'creating volume "v1": quota size requested but no quota support'],
      [['volume', 'create', '-o', 'type=nfs', '-o', 'o=addr=127.0.0.1', '-o', 'device=:/export', 'v1'],
        'creating volume "v1": volume type "nfs" is not supported: strata\'s local volumes take type=none with o=bind and device=/a/host/dir, or type=tmpfs with device=tmpfs'],
      [['volume', 'create', ...bindOpts('rel/dir'), 'v1'], 'creating volume "v1": volume option device: "rel/dir" is not an absolute path'],
      [['volume', 'create', ...bindOpts(file), 'v1'], `creating volume "v1": device "${file}" is not a directory`],
      [['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1x', 'v1'], 'creating volume "v1": volume option o: "size=1x" is not a tmpfs mount option'],
      [['run', '--rm', '--mount', 'type=volume,dst=/x,volume-opt=type=ext4,volume-opt=device=/dev/vda', 'busybox', 'true'],
        'invalid mount spec "type=volume,dst=/x,volume-opt=type=ext4,volume-opt=device=/dev/vda": volume type "ext4" is not supported: strata\'s local volumes take type=none with o=bind and device=/a/host/dir, or type=tmpfs with device=tmpfs'],
    ];
    for (const [args, message] of cases) {
      const r = fx.strata(args);
      assert.deepEqual([r.status, r.stderr], [125, `Error: ${message}\n`], args.join(' '));
    }
    fs.rmSync(file);
    assert.deepEqual(names(), []);
    assert.deepEqual(fx.ok(['ps', '-aq']), '');
  });

  it('an anonymous bind volume of --mount gets the image\'s files when empty, as Docker\'s; rm -v keeps them', () => {
    const mount = `type=volume,dst=/etc,volume-opt=type=none,"volume-opt=o=bind,rw",volume-opt=device=${device.dir}`;
    fx.ok(['run', '--name', 'user', '--mount', mount, 'busybox', 'sh', '-c', 'echo mine > /etc/precious']);
    const [anon] = names();
    assert.match(anon ?? '', /^[0-9a-f]{64}$/);
    const [shown] = JSON.parse(fx.ok(['volume', 'inspect', anon!])) as Array<{ Options: unknown; Mountpoint: string }>;
    assert.deepEqual(shown?.Options, { device: device.dir, o: 'bind,rw', type: 'none' });
    assert.equal(shown?.Mountpoint, path.join(fx.root, 'volumes', anon!, '_data'));
    assert.ok(files().includes('group'), 'busybox\'s /etc copied into the empty device dir');
    fx.ok(['rm', '-v', 'user']);
    assert.deepEqual(names(), [], 'the anonymous volume\'s record is gone');
    assert.equal(fs.readFileSync(path.join(device.dir, 'precious'), 'utf8'), 'mine\n');
    assert.ok(files().includes('group'));
  });

  it('a named bind volume shows the device dir; volume rm and volume prune --all leave its files', () => {
    const before = files();
    fx.ok(['volume', 'create', ...bindOpts(device.dir), '--label', 'tier=data', 'shared']);
    const [shown] = JSON.parse(fx.ok(['volume', 'inspect', 'shared'])) as Array<{ Options: unknown; Labels: unknown }>;
    assert.deepEqual([shown?.Options, shown?.Labels], [{ device: device.dir, o: 'bind', type: 'none' }, { tier: 'data' }]);
    const seen = fx.ok(['run', '--rm', '-v', 'shared:/data', 'busybox', 'sh', '-c', 'cat /data/precious; echo more > /data/more']);
    assert.equal(seen, 'mine\n');
    fx.ok(['volume', 'rm', 'shared']);
    assert.deepEqual(files(), [...before, 'more'].sort());
    fx.ok(['volume', 'create', ...bindOpts(device.dir), 'again']);
    assert.match(fx.ok(['volume', 'prune', '--all', '-f']), /^Deleted Volumes:\nagain\n\nTotal reclaimed space: 0B\n$/);
    assert.deepEqual(files(), [...before, 'more'].sort());
    assert.equal(fs.readFileSync(path.join(device.dir, 'precious'), 'utf8'), 'mine\n');
  });

  it('a tmpfs volume is a tmpfs with its options in the container, and nothing on the host', () => {
    fx.ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m,uid=1000', 'scratch']);
    const out = fx.ok(['run', '--rm', '-v', 'scratch:/t', 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts; stat -c %u /t; echo x > /t/f']);
    assert.match(out, /^tmpfs \/t tmpfs rw,[^ ]*size=1024k,uid=1000 0 0\n1000\n$/);
    assert.deepEqual(fs.readdirSync(path.join(fx.root, 'volumes', 'scratch', '_data')), []);
    assert.deepEqual(mountsUnder(fx.root), []);
    fx.ok(['volume', 'rm', 'scratch']);
  });

  it("inspects as Docker: moby's key order; `volume create` without --label/--opt shows {} for both, a container's own volume null", () => {
    fx.ok(['volume', 'create', 'bare']);
    fx.ok(['create', '--name', 'made', '-v', 'implicit:/i', '-v', '/anon', 'busybox']);
    const [bare, implicit] = JSON.parse(fx.ok(['volume', 'inspect', 'bare', 'implicit'])) as Array<Record<string, unknown>>;
    // An anonymous one carries Docker's label (23+): listed by it, pruned without -a.
    const anon = fx.ok(['volume', 'ls', '-q', '--filter', 'label=com.docker.volume.anonymous']).trim();
    assert.match(anon, /^[0-9a-f]{64}$/);
    assert.equal(fx.ok(['volume', 'inspect', '-f', '{{json .Labels}}', anon]), '{"com.docker.volume.anonymous":""}\n');
    assert.deepEqual(Object.keys(bare!), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    assert.deepEqual([bare!.Labels, bare!.Options], [{}, {}]);
    assert.deepEqual([implicit!.Labels, implicit!.Options], [null, null]);
    assert.equal(fx.ok(['volume', 'inspect', '-f', '{{.Labels}} {{.Options}}', 'bare', 'implicit']), 'map[] map[]\nmap[] map[]\n');
    // the whole struct as Go prints it: ClusterVolume first, Status and UsageData last (omitempty: not in the JSON)
    assert.equal(fx.ok(['volume', 'inspect', '-f', '{{.}}', 'bare']), `{<nil> ${bare!.CreatedAt} local map[] ${bare!.Mountpoint} bare map[] local map[] <nil>}\n`);
    assert.deepEqual(Object.keys(JSON.parse(fx.ok(['volume', 'inspect', '-f', '{{json .}}', 'bare']))), Object.keys(bare!));
    fx.ok(['rm', '-v', 'made']);
    fx.ok(['volume', 'rm', 'bare', 'implicit']);
  });
});
