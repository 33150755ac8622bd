// version / --version, info, system df and system prune against a real state root: a build, a
// stopped container and an untagged image, then what prune removes and what it keeps.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeHashPool } from '../hash/index.js';
import { openStore } from '../store/index.js';
import { ensureBusybox } from '../testing/busybox.js';
import { repoRoot, runStrata, tempDir } from '../testing/cli.js';
import { STRATA_VERSION } from '../version.js';

after(closeHashPool);

describe('version, info, system df, system prune', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  const strata = (args: string[], input?: string) => {
    const r = runStrata(args, { root, input, timeoutMs: 120_000 });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    t = tempDir('strata-system-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
  });
  after(() => t.cleanup());

  it('--version prints one line with the package version; version and info take --format', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    assert.equal(STRATA_VERSION, pkg.version);
    assert.equal(strata(['--version']), `strata version ${pkg.version}\n`);
    assert.equal(strata(['version', '--format', '{{.Client.Version}}']), `${pkg.version}\n`);
    assert.match(strata(['version']), /^Version: +\d+\.\d+\.\d+$/m);
    assert.equal(strata(['info', '--format', '{{.Images}} {{.Containers}} {{.Driver}}']), '1 0 overlay2\n');
    assert.match(strata(['info']), new RegExp(`^ Strata Root Dir: ${root}$`, 'm'));
  });

  it('system df counts images, containers, volumes and the build cache', () => {
    const ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN head -c 300000 /dev/zero > /big\n');
    strata(['build', '-q', '-t', 'big:1', ctx]);
    strata(['run', '--name', 'stopped', '-v', '/data', 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /scratch']);
    const rows = strata(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}']).trim().split('\n');
    assert.equal(rows.length, 4, rows.join('\n'));
    // Sizes as go-units' HumanSize (four digits), as Docker's summary.
    assert.match(rows[0]!, /^Images\|2\|1\|2\.\d{3}MB\|30\d\.\dkB \(\d+%\)$/, 'big:1 is reclaimable, busybox is used');
    assert.match(rows[1]!, /^Containers\|1\|0\|100kB\|100kB \(100%\)$/);
    assert.match(rows[2]!, /^Local Volumes\|1\|1\|0B\|0B$/);
    assert.match(rows[3]!, /^Build Cache\|1\|0\|30\d\.\dkB\|0B$/, 'its layer is the image\'s');
    assert.match(strata(['system', 'df']), /^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\n/);
    // -v: one table each, Docker's headings; big:1 shares busybox's layers.
    const verbose = strata(['system', 'df', '-v']);
    const lines = verbose.split('\n');
    assert.deepEqual(lines.filter((l) => /usage/.test(l)).map((l) => l.replace(/: \S+$/, '')),
      ['Images space usage:', 'Containers space usage:', 'Local Volumes space usage:', 'Build cache usage']);
    assert.match(verbose, /^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\nbig +1 +[0-9a-f]{12} +.* ago +2\.\d+MB +2\.\d+MB +30\d(\.\d)?kB +0$/m);
    assert.match(verbose, /^busybox +latest +[0-9a-f]{12} .* 0B +1$/m);
    assert.match(verbose, /^CONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES +SIZE +CREATED +STATUS +NAMES\n[0-9a-f]{12} +busybox +"sh -c head -c 10000…" +1 +100kB +.* ago +Exited \(0\) .* ago +stopped\n$/m);
    assert.match(verbose, /^VOLUME NAME +LINKS +SIZE\n[0-9a-f]{64} +1 +0B\n$/m);
    assert.match(verbose, /^Build cache usage: 30\d(\.\d)?kB\n\nCACHE ID +CACHE TYPE +SIZE +CREATED +LAST USED +USAGE +SHARED\n[0-9a-f]{12} +regular +30\dkB +.* ago +.* ago +0 +true\n$/m);
    assert.equal(strata(['system', 'df', '-v', '--format', '{{range .Volumes}}{{.Links}}{{end}}']), '1');
  });

  it('system prune removes stopped containers, dangling images and unused cache; -a every unused image and the cache', () => {
    strata(['tag', 'big:1', 'other:1']);
    strata(['rmi', 'big:1']);
    const id = strata(['images', '-q', 'other:1']).trim();
    strata(['rmi', 'other:1']); // its image is gone: the cache entry is now unused
    assert.equal(strata(['system', 'prune'], 'n\n').includes('Deleted'), false, 'answering no removes nothing');
    assert.match(strata(['ps', '-a', '-q']), /\S/);
    const out = strata(['system', 'prune', '-f']);
    assert.match(out, /^Deleted Containers:\n[0-9a-f]{64}\n\n/);
    assert.match(out, /Deleted build cache objects:\n[0-9a-f]{64}\n/);
    assert.match(out, /Total reclaimed space: [\d.]+[kM]B\n$/);
    assert.equal(strata(['ps', '-a', '-q']), '');
    assert.equal(strata(['images', '-q', '--no-trunc']).trim(), strata(['images', '-q', '--no-trunc', 'busybox']).trim(), 'busybox stays without -a');
    assert.ok(!strata(['images', '-a', '-q']).includes(id));
    assert.match(strata(['volume', 'ls', '-q']), /\S/, 'volumes stay without --volumes');
    const all = strata(['system', 'prune', '-a', '-f', '--volumes']);
    assert.match(all, /Deleted Volumes:\n[0-9a-f]{64}\n/);
    assert.match(all, /Deleted Images:\nuntagged: busybox:latest\ndeleted: sha256:/);
    assert.equal(strata(['images', '-a', '-q']), '');
    const rows = strata(['system', 'df', '--format', '{{.TotalCount}}']);
    assert.equal(rows, '0\n0\n0\n0\n');
    assert.deepEqual(fs.readdirSync(path.join(root, 'blobs', 'sha256')), [], 'the collector freed every blob');
  });
});

describe('system prune --filter', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  const strata = (args: string[], input?: string) => runStrata(args, { root, input, timeoutMs: 120_000 });
  const listed = (args: string[]) => strata(args).stdout.split('\n').filter(Boolean).sort();
  const names = () => [...listed(['ps', '-a', '--format', '{{.Names}}']), ...listed(['network', 'ls', '--format', '{{.Name}}']).filter((n) => n.startsWith('net'))];

  before(async () => {
    t = tempDir('strata-system-filter-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    for (const args of [['--name', 'kept', '--label', 'keep=1'], ['--name', 'gone']]) assert.equal(strata(['create', ...args, 'busybox', 'true']).status, 0);
    for (const args of [['--label', 'keep=1', 'netkept'], ['netgone']]) assert.equal(strata(['network', 'create', ...args]).status, 0);
  });
  after(() => t.cleanup());

  it('checks every filter before removing anything, shows them in the question, and passes them on', () => {
    for (const [args, message] of [
      [['--filter', 'dangling=true'], 'Error: invalid filter "dangling": system prune supports until, label, label!\n'],
      [['--volumes', '--filter', 'until=1h'], 'Error: The "until" filter is not supported with "--volumes"\n'],
    ] as const) {
      const r = strata(['system', 'prune', '-f', ...args]);
      assert.deepEqual([r.status, r.stderr], [125, message]);
    }
    assert.deepEqual(names(), ['gone', 'kept', 'netgone', 'netkept'], 'a refused prune removed nothing');
    const asked = strata(['system', 'prune', '--filter', 'until=1h', '--filter', 'label!=keep'], 'n\n');
    assert.match(asked.stdout, /  - unused build cache\n\n  Items to be pruned will be filtered with:\n  - label!=keep\n  - until=1h\n\nAre you sure you want to continue\? \[y\/N\] /);
    // Created just now: not older than an hour.
    assert.equal(strata(['system', 'prune', '-f', '--filter', 'until=1h']).status, 0);
    assert.deepEqual(names(), ['gone', 'kept', 'netgone', 'netkept']);
    const pruned = strata(['system', 'prune', '-f', '--filter', 'label!=keep']);
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.match(pruned.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nDeleted Networks:\nnetgone\n\n/);
    assert.deepEqual(names(), ['kept', 'netkept']);
    assert.equal(strata(['system', 'prune', '-f', '--filter', 'label=keep=1']).status, 0);
    assert.deepEqual(names(), []);
  });

  it("container, volume and network prune ask Docker's question on stdout; only yes removes", () => {
    assert.equal(strata(['create', '--name', 'stopped', 'busybox', 'true']).status, 0);
    assert.equal(strata(['volume', 'create', 'unusedvol']).status, 0);
    assert.equal(strata(['network', 'create', 'netunused']).status, 0);
    const volumes = () => listed(['volume', 'ls', '--format', '{{.Name}}']);
    const prunes = [
      [['container', 'prune'], 'all stopped containers'],
      [['volume', 'prune', '-a'], 'all local volumes not used by at least one container'],
      [['network', 'prune'], 'all custom networks not used by at least one container'],
    ] as const;
    for (const [args, what] of prunes) {
      const no = strata([...args], 'n\n');
      assert.deepEqual([no.status, no.stdout, no.stderr], [0, `WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `, '']);
    }
    assert.deepEqual([names(), volumes()], [['stopped', 'netunused'], ['unusedvol']], 'no: nothing removed');
    for (const [args] of prunes) assert.equal(strata([...args], 'y\n').status, 0);
    assert.deepEqual([names(), volumes()], [[], []]);
  });
});
