// Details of the Docker flow a user meets by hand: `inspect`'s keys and order, the IMAGE column
// once the image's name is gone, `rename` to the same name, and a closed stdout pipe.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { strataCommand, testdataDir } from '../testing/cli.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

const DOCKER_KEYS = [
  'Id', 'Created', 'Path', 'Args', 'State', 'Image', 'ResolvConfPath', 'HostnamePath', 'HostsPath', 'LogPath', 'Name', 'RestartCount',
  'Driver', 'Platform', 'MountLabel', 'ProcessLabel', 'AppArmorProfile', 'ExecIDs', 'HostConfig', 'GraphDriver', 'Mounts', 'Config', 'NetworkSettings',
];

/** Docker's keys of a container's parts (moby's types), in Go's order. */
const MOBY = JSON.parse(fs.readFileSync(path.join(testdataDir, 'inspect', 'container-keys.json'), 'utf8')) as Record<string, string[]>;

describe("the container flow's details, as Docker shows them", { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => (fx = await lifecycleFixture()));
  after(async () => fx.teardown());

  it("inspects a container with Docker's keys in Docker's order", () => {
    assert.equal(fx.strata(['run', '--name', 'shape', 'busybox', 'sh', '-c', 'echo hi > /f']).status, 0);
    const [info] = JSON.parse(fx.strata(['container', 'inspect', 'shape']).stdout) as Array<Record<string, any>>;
    assert.deepEqual(Object.keys(info!), DOCKER_KEYS);
    assert.equal(info!.State.Status, 'exited');
    assert.equal(info!.HostConfig.Binds, null, 'no -v: null, as Docker');
    assert.deepEqual(info!.NetworkSettings.Ports, {});
    assert.equal(info!.Name, '/shape');
    const upper = fx.strata(['inspect', '--format', '{{.GraphDriver.Data.UpperDir}}', 'shape']).stdout.trim();
    assert.equal(spawnSync('cat', [`${upper}/f`], { encoding: 'utf8' }).stdout, 'hi\n', 'UpperDir is the container\'s upper dir');
    // Driver and GraphDriver as Docker's overlay2 shows them: for an image, its top layer's dirs (moby's GetMetadata), LowerDir only below a top layer.
    assert.match(fx.strata(['inspect', '-f', '{{.Driver}} {{.GraphDriver.Name}} {{.GraphDriver.Data.LowerDir}}', 'shape']).stdout, /^overlay2 overlay2 \/\S+\/init:\/\S+\n$/);
    assert.equal(fx.strata(['commit', 'shape', 'shaped']).status, 0);
    const layers = (image: string) => (JSON.parse(fx.strata(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', image]).stdout) as string[])
      .map((d) => path.join(fx.root, 'layers', d.slice('sha256:'.length)));
    const [base, top] = layers('shaped');
    assert.equal(fx.strata(['image', 'inspect', '-f', '{{json .GraphDriver}}', 'shaped']).stdout,
      `${JSON.stringify({ Data: { LowerDir: base, MergedDir: '', UpperDir: top, WorkDir: '' }, Name: 'overlay2' })}\n`);
    assert.equal(fs.readFileSync(path.join(top!, 'f'), 'utf8'), 'hi\n', 'UpperDir holds the top layer');
    assert.equal(fx.strata(['image', 'inspect', '-f', '{{json .GraphDriver.Data}}', 'busybox']).stdout,
      `${JSON.stringify({ MergedDir: '', UpperDir: base, WorkDir: '' })}\n`, 'one layer: no LowerDir');
    assert.match(fx.strata(['inspect', '--format', '{{.HostsPath}}', 'shape']).stdout, /\/hosts\n$/);
    // ps -s: the writable layer's size, and with the image's.
    assert.match(fx.strata(['ps', '-a', '-s', '--filter', 'name=shape', '--format', '{{.Size}}']).stdout, /^3B \(virtual 2\.\d+MB\)\n$/);
    assert.match(fx.strata(['ps', '-as']).stdout.split('\n')[0]!, / {3}NAMES {5}SIZE$/);
    assert.match(fx.strata(['ps', '-a', '--filter', 'name=shape', '--format', '{{.Names}} {{.Size}}']).stdout, /^shape 3B \(virtual /, '.Size implies -s');
    // inspect --size: SizeRw and SizeRootFs, as Docker's; container inspect of a missing one: [] and exit 1.
    for (const cmd of [['inspect'], ['container', 'inspect']]) {
      assert.match(fx.strata([...cmd, '--size', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'shape']).stdout, /^3 2\d{6}\n$/);
    }
    const missing = fx.strata(['container', 'inspect', 'shape', 'nope']);
    assert.deepEqual([missing.status, missing.stderr], [1, 'Error: no such container: "nope"\n']);
    assert.equal((JSON.parse(missing.stdout) as unknown[]).length, 1);
  });

  it("writes every field of Docker's HostConfig, NetworkSettings and Mounts; a template sees Go's typed nils", () => {
    const dir = fs.mkdtempSync(path.join(fx.root, 'bind-'));
    assert.equal(fx.strata(['create', '--name', 'keyed', '-v', `${dir}:/h:ro`, '-v', 'keyedvol:/v', '--expose', '80', '--userns', 'host', 'busybox']).status, 0);
    const [info] = JSON.parse(fx.strata(['inspect', 'keyed']).stdout) as Array<Record<string, any>>;
    assert.deepEqual(Object.keys(info!.HostConfig), MOBY.HostConfig);
    assert.deepEqual(Object.keys(info!.Config), MOBY.Config);
    assert.deepEqual(Object.keys(info!.State), MOBY.State);
    assert.deepEqual(Object.keys(info!.NetworkSettings), MOBY.NetworkSettings);
    assert.deepEqual(Object.keys(info!.NetworkSettings.Networks.bridge), MOBY.EndpointSettings);
    assert.deepEqual(info!.Mounts.map((m: object) => Object.keys(m)), [MOBY.MountPointBind, MOBY.MountPointVolume]);
    assert.deepEqual(Object.keys(info!.GraphDriver.Data), MOBY.GraphDriverData);
    const h = info!.HostConfig;
    assert.deepEqual([h.Runtime, h.Links, h.VolumesFrom, h.ConsoleSize, h.BlkioWeightDevice, h.UsernsMode], ['runc', null, null, [0, 0], [], 'host']);
    assert.deepEqual([info!.Mounts[1].Source, info!.Mounts[1].Driver, info!.Mounts[1].Mode, info!.Mounts[0].Mode, info!.Mounts[0].Propagation],
      [path.join(fx.root, 'volumes', 'keyedvol', '_data'), 'local', 'z', 'ro', 'rprivate']);
    // The masked and read-only paths runc gets (a container that ran has its spec).
    const spec = JSON.parse(fs.readFileSync(path.join(path.dirname(fx.strata(['inspect', '-f', '{{.HostsPath}}', 'shape']).stdout.trim()), 'config.json'), 'utf8'));
    assert.equal(fx.strata(['inspect', '-f', '{{json .HostConfig.MaskedPaths}} {{json .HostConfig.ReadonlyPaths}}', 'shape']).stdout,
      `${JSON.stringify(spec.linux.maskedPaths)} ${JSON.stringify(spec.linux.readonlyPaths)}\n`);
    // Go prints a nil slice "[]", a nil map "map[]", a nil pointer "<nil>"; omitempty fields exist with their zero value.
    const bridge = '.NetworkSettings.Networks.bridge';
    const shown = fx.strata(['inspect', '-f', [
      '{{.HostConfig.Links}} {{.HostConfig.DeviceRequests}} {{.HostConfig.Tmpfs}} {{.HostConfig.Init}} {{.HostConfig.KernelMemory}} {{.HostConfig.LogConfig.Config}}',
      `{{.NetworkSettings.SecondaryIPAddresses}} {{${bridge}.IPAMConfig}} {{${bridge}.Links}} {{${bridge}.Aliases}} {{${bridge}.DNSNames}} {{${bridge}.DriverOpts}}`,
      '{{.NetworkSettings.Ports}} {{.State.Health}} {{range .Mounts}}{{.Name}}|{{.Driver}};{{end}}',
      `{{json .HostConfig.Links}} {{json .HostConfig.Tmpfs}} {{json ${bridge}.IPAMConfig}} {{json ${bridge}.DriverOpts}}`,
    ].join('\n'), 'keyed']);
    assert.equal(shown.stdout, '[] [] map[] <nil> 0 map[]\n[] <nil> [] [] [] map[]\nmap[80/tcp:[]] <nil> |;keyedvol|local;\nnull null null null\n', shown.stderr);
    assert.equal(fx.strata(['rm', '-v', 'keyed']).status, 0);
  });

  it("prints structs as Go's fmt and keeps their field order in json; maps print and encode with their keys sorted", () => {
    assert.equal(fx.strata(['create', '--name', 'gofmt', '-l', 'zz=1', '-l', 'aa=2', 'busybox']).status, 0);
    const shown = fx.strata(['inspect', '-f', '{{.HostConfig.LogConfig}} {{.HostConfig.RestartPolicy}} {{.Config.Labels}} {{json .Config.Labels}}\n{{.State}}', 'gofmt']);
    assert.equal(shown.stdout, '{json-file map[]} {no 0} map[aa:2 zz:1] {"aa":"2","zz":"1"}\n'
      + '{created false false false false false 0 0  0001-01-01T00:00:00Z 0001-01-01T00:00:00Z <nil>}\n', shown.stderr);
    const state = JSON.parse(fx.strata(['inspect', '-f', '{{json .State}}', 'gofmt']).stdout) as object;
    assert.deepEqual(Object.keys(state), MOBY.State, 'ContainerState in its declaration order, not sorted');
    assert.deepEqual(Object.keys(JSON.parse(fx.strata(['inspect', '-f', '{{json .}}', 'gofmt']).stdout) as object), DOCKER_KEYS);
    // container.Config whole, its omitempty fields (ArgsEscaped, NetworkDisabled, MacAddress, StopSignal) in their places
    const id = fx.strata(['inspect', '-f', '{{.Id}}', 'gofmt']).stdout.trim();
    assert.equal(fx.strata(['inspect', '-f', '{{.Config}}', 'gofmt']).stdout,
      `{${id.slice(0, 12)}   false true true map[] false false false [PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin] [sh] <nil> false busybox map[]  [] false  [] map[aa:2 zz:1]  <nil> []}\n`);
    assert.match(fx.strata(['image', 'inspect', '-f', '{{.RootFS}}', 'busybox']).stdout, /^\{layers \[sha256:[0-9a-f]{64}\]\}\n$/);
    assert.match(fx.strata(['network', 'inspect', '-f', '{{.IPAM}} {{.ConfigFrom}}', 'bridge']).stdout, /^\{default map\[\] \[\{[0-9./]+ [0-9.]+\}\]\} \{\}\n$/);
    assert.equal(fx.strata(['rm', 'gofmt']).status, 0);
  });

  it('shows an anonymous -v /path in Config.Volumes and Mounts, not in HostConfig.Binds, as Docker', () => {
    assert.equal(fx.strata(['create', '--name', 'anon', '-v', '/data', '-v', 'anonnamed:/n', 'busybox']).status, 0);
    const [info] = JSON.parse(fx.strata(['inspect', 'anon']).stdout) as Array<Record<string, any>>;
    assert.deepEqual(info!.HostConfig.Binds, ['anonnamed:/n'], 'host paths and named volumes only');
    assert.deepEqual(info!.Config.Volumes, { '/data': {} });
    const data = info!.Mounts.find((m: { Destination: string }) => m.Destination === '/data');
    assert.equal(data.Type, 'volume');
    assert.match(data.Name, /^[0-9a-f]{64}$/);
    assert.deepEqual([data.Source, data.Driver, data.Mode, data.RW], [path.join(fx.root, 'volumes', data.Name, '_data'), 'local', '', true]);
    assert.equal(fx.strata(['rm', '-v', 'anon']).status, 0);
    assert.equal(fx.strata(['volume', 'rm', 'anonnamed']).status, 0);
  });

  it('keeps each --mount in HostConfig.Mounts as Docker\'s CLI sends it (not in Binds or Config.Volumes)', () => {
    const dir = fs.mkdtempSync(path.join(fx.root, 'mnt-'));
    assert.equal(fx.strata(['create', '--name', 'mounted', '--mount', 'type=volume,dst=/anon', '--mount', `type=bind,src=${dir},dst=/h,readonly`,
      '--mount', 'type=volume,src=mountvol,dst=/v,volume-nocopy,volume-label=k=v', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777', 'busybox']).status, 0);
    const [info] = JSON.parse(fx.strata(['inspect', 'mounted']).stdout) as Array<Record<string, any>>;
    assert.deepEqual(info!.HostConfig.Mounts, [
      { Type: 'volume', Target: '/anon' },
      { Type: 'bind', Source: dir, Target: '/h', ReadOnly: true },
      { Type: 'volume', Source: 'mountvol', Target: '/v', VolumeOptions: { NoCopy: true, Labels: { k: 'v' } } },
      { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } },
    ]);
    assert.deepEqual([info!.HostConfig.Binds, info!.Config.Volumes], [null, null]);
    assert.equal(fx.strata(['inspect', '-f', '{{json (index .HostConfig.Mounts 1)}}', 'mounted']).stdout, `${JSON.stringify({ Type: 'bind', Source: dir, Target: '/h', ReadOnly: true })}\n`, 'mount.Mount\'s field order');
    assert.deepEqual(info!.Mounts.map((m: { Type: string; Destination: string }) => `${m.Type}:${m.Destination}`), ['volume:/anon', 'bind:/h', 'volume:/v', 'tmpfs:/t']);
    assert.equal(fx.strata(['rm', '-v', 'mounted']).status, 0);
    assert.equal(fx.strata(['volume', 'rm', 'mountvol']).status, 0);
  });

  it('shows published ports in NetworkSettings.Ports while running', () => {
    assert.equal(fx.strata(['run', '-d', '--name', 'ported', '-p', '127.0.0.1::80', 'busybox', 'sleep', '60']).status, 0);
    const ports = JSON.parse(fx.strata(['inspect', '--format', '{{json .NetworkSettings.Ports}}', 'ported']).stdout) as Record<string, Array<{ HostIp: string; HostPort: string }>>;
    assert.equal(ports['80/tcp']![0]!.HostIp, '127.0.0.1');
    assert.match(ports['80/tcp']![0]!.HostPort, /^\d+$/);
    assert.equal(fx.strata(['rm', '-f', 'ported']).status, 0);
  });

  it('refuses renaming a container to its own name or to nothing', () => {
    const r = fx.strata(['rename', 'shape', 'shape']);
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr, 'Error: Renaming a container with the same name as its current name\n');
    // docker/cli trims both names, and neither may be empty.
    const empty = fx.strata(['rename', 'shape', ' ']);
    assert.deepEqual([empty.status, empty.stderr], [125, 'Error: Neither old nor new names may be empty\n']);
  });

  it('ends quietly when the reader of its stdout goes away', () => {
    const { command, args } = strataCommand();
    for (const sub of [['export', 'shape'], ['cp', 'shape:/bin', '-']]) {
      const r = spawnSync('sh', ['-c', '"$@" | head -c 1 >/dev/null', 'sh', command, ...args, ...sub], { env: { ...process.env, STRATA_ROOT: fx.root }, encoding: 'utf8' });
      assert.equal(r.stderr, '', `${sub[0]}: no "write EPIPE" message`);
    }
  });

  it('image prune counts the space of the layers it deleted, once', () => {
    assert.equal(fx.strata(['commit', 'shape', 'p:1']).status, 0);
    assert.equal(fx.strata(['commit', 'shape', 'p:2']).status, 0);
    const pruned = fx.strata(['image', 'prune', '-a', '-f']);
    assert.match(pruned.stdout, /untagged: p:1\n/);
    assert.match(pruned.stdout, /untagged: p:2\n/);
    // The two images share their one new layer (a few kB); busybox's stays: a container uses it.
    assert.match(pruned.stdout, /\nTotal reclaimed space: \d+(\.\d+)?kB\n$/);
    assert.match(fx.strata(['images', 'busybox']).stdout, /^busybox /m);
  });

  it('shows the image ID in ps once the name the container was run with means another image', () => {
    assert.equal(fx.strata(['commit', 'shape', 'other:1']).status, 0);
    assert.equal(fx.strata(['run', '--name', 'byname', 'other:1', 'true']).status, 0);
    const id = fx.strata(['inspect', '--format', '{{.Image}}', 'byname']).stdout.trim();
    assert.match(fx.strata(['ps', '-a', '--filter', 'name=byname', '--format', '{{.Image}}']).stdout, /^other:1\n$/);
    // --format json / table, as Docker's list commands take them.
    const image = JSON.parse(fx.strata(['images', '--format', 'json', 'other']).stdout) as Record<string, string>;
    assert.equal(`${image.Repository}:${image.Tag}`, 'other:1');
    const rows = fx.strata(['history', '--format', 'json', 'other:1']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(rows[0]!.CreatedBy, 'sh -c echo hi > /f');
    const table = fx.strata(['history', '--format', 'table', 'other:1']).stdout.split('\n');
    assert.match(table[0]!, /^IMAGE {10}CREATED {2,}CREATED BY {2,}SIZE {6}COMMENT$/);
    assert.equal(table.length, rows.length + 2, 'header, rows, final newline');
    assert.equal(fx.strata(['rmi', '-f', 'other:1']).status, 0);
    assert.equal(fx.strata(['ps', '-a', '--filter', 'name=byname', '--format', '{{.Image}}']).stdout, `${id.slice(7, 19)}\n`);
    assert.equal(fx.strata(['ps', '-a', '--no-trunc', '--filter', 'name=byname', '--format', '{{.Image}}']).stdout, `${id}\n`);
  });
});
