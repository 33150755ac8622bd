// A volume is where its directory is: its volume.json's Name and Mountpoint are not trusted. A
// record copied with a state root (or damaged) names another root's data; a container of this
// root must still mount, and write into, this root's volume, and `volume inspect` say so.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('a volume record naming another place', { concurrency: false, timeout: 120_000 }, () => {
  let fx: LifecycleFixture;
  let other: { dir: string; cleanup: () => void };
  before(async () => {
    fx = await lifecycleFixture();
    other = tempDir('strata-other-root-');
  });
  after(async () => {
    await fx.teardown();
    other.cleanup();
  });

  it('mounts and shows the volume of this root, never the data its record names', () => {
    fx.ok(['volume', 'create', 'moved']);
    const own = path.join(fx.root, 'volumes', 'moved', '_data');
    const theirs = path.join(other.dir, 'volumes', 'elsewhere', '_data');
    fs.mkdirSync(theirs, { recursive: true });
    fs.writeFileSync(path.join(theirs, 'theirs'), 'not this root\'s\n');
    // As a state root copied from elsewhere would have it.
    const meta = path.join(fx.root, 'volumes', 'moved', 'volume.json');
    fs.writeFileSync(meta, JSON.stringify({ ...JSON.parse(fs.readFileSync(meta, 'utf8')), Name: 'elsewhere', Mountpoint: theirs }));
    const [shown] = JSON.parse(fx.ok(['volume', 'inspect', 'moved'])) as Array<{ Name: string; Mountpoint: string }>;
    assert.deepEqual([shown?.Name, shown?.Mountpoint], ['moved', own]);
    assert.deepEqual(fx.ok(['volume', 'ls', '-q']).split('\n').filter(Boolean), ['moved']);
    const seen = fx.ok(['run', '--rm', '-v', 'moved:/data', 'busybox', 'sh', '-c', 'ls /data; echo mine > /data/f']);
    assert.equal(seen, '', 'the container sees this root\'s (empty) volume');
    assert.equal(fs.readFileSync(path.join(own, 'f'), 'utf8'), 'mine\n');
    assert.deepEqual(fs.readdirSync(theirs), ['theirs'], 'the other root\'s data is untouched');
    fx.ok(['volume', 'rm', 'moved']);
    assert.deepEqual(fs.readdirSync(theirs), ['theirs']);
  });
});
