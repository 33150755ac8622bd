import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { envFromFlags, parseMemory, parseRunArgs } from './containers-args.js';

describe('run arguments', () => {
  it('stop at the image: the rest is the command, flags included', () => {
    const r = parseRunArgs(['--rm', '-it', '-e', 'A=1', '--name=x', 'busybox', 'ls', '-h', '--rm']);
    assert.equal(r.image, 'busybox');
    assert.deepEqual(r.command, ['ls', '-h', '--rm']);
    assert.equal(r.flags.rm, true);
    assert.equal(r.flags.interactive && r.flags.tty, true);
    assert.deepEqual(r.flags.env, ['A=1']);
    assert.equal(r.flags.name, 'x');
  });
  it('take attached short values and repeated lists', () => {
    const r = parseRunArgs(['-eA=1', '-v', '/a:/b', '-v/c:/d:ro', '-uNOBODY', 'img']);
    assert.deepEqual(r.flags.env, ['A=1']);
    assert.deepEqual(r.flags.volume, ['/a:/b', '/c:/d:ro']);
    assert.equal(r.flags.user, 'NOBODY');
    assert.deepEqual(r.command, []);
  });
  it('keep an empty --entrypoint', () => {
    assert.equal(parseRunArgs(['--entrypoint', '', 'img']).flags.entrypoint, '');
  });
  it('refuse unknown flags and missing values', () => {
    assert.throws(() => parseRunArgs(['--bogus', 'img']), /unknown flag: --bogus/);
    assert.throws(() => parseRunArgs(['--name']), /flag needs an argument: --name/);
  });
  it('read a boolean flag\'s =VALUE as Go\'s ParseBool, as pflag', () => {
    assert.deepEqual(['--sig-proxy=false', '--sig-proxy=0', '--sig-proxy=F', '--sig-proxy=true', '--sig-proxy'].map((a) => parseRunArgs([a, 'img']).flags.sigProxy), [false, false, false, true, true]);
    assert.equal(parseRunArgs(['img']).flags.sigProxy, true);
    assert.throws(() => parseRunArgs(['--rm=yes', 'img']), /^StrataError: invalid argument "yes" for "--rm" flag: strconv.ParseBool: parsing "yes": invalid syntax$/);
  });
});

describe('environment flags', () => {
  it('take K=V, K from our environment, and env files', () => {
    const t = tempDir();
    try {
      const file = path.join(t.dir, 'env');
      fs.writeFileSync(file, '# comment\n\nFROM_FILE=1\nHOSTVAR\nUNSET_VAR\n');
      assert.deepEqual(envFromFlags(['A=1', 'HOSTVAR', 'UNSET_VAR'], [file], { HOSTVAR: 'h' }), ['FROM_FILE=1', 'HOSTVAR=h', 'A=1', 'HOSTVAR=h']);
      assert.throws(() => envFromFlags([], [path.join(t.dir, 'missing')]), /no such file or directory/);
    } finally {
      t.cleanup();
    }
  });
});

describe('memory sizes', () => {
  it('use binary units', () => {
    assert.equal(parseMemory('64m'), 64 * 1024 * 1024);
    assert.equal(parseMemory('1g'), 1024 ** 3);
    assert.equal(parseMemory('1.5G'), 1.5 * 1024 ** 3);
    assert.throws(() => parseMemory('1k'), /minimum memory limit/);
    assert.throws(() => parseMemory('lots'), /invalid size/);
  });
});

describe('run label files and exposed ports', () => {
  it('reads --label-file lines before the -l flags, and expands --expose ranges', async () => {
    const { exposedPorts, labelsFromFlags } = await import('./containers-args.js');
    const t = tempDir('strata-labels-');
    try {
      fs.writeFileSync(path.join(t.dir, 'l'), '  # c\n\na=1\nflag\n');
      assert.deepEqual(labelsFromFlags(['a=2'], [path.join(t.dir, 'l')]), ['a=1', 'flag', 'a=2']);
      assert.throws(() => labelsFromFlags([], [path.join(t.dir, 'none')]), /reading label file ".*none": no such file or directory/);
    } finally {
      t.cleanup();
    }
    assert.deepEqual(exposedPorts(['80', '53/udp', '8000-8002/tcp']), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp', '8002/tcp']);
    for (const bad of ['0', 'x', '9-8', '80/icmp', '65536']) assert.throws(() => exposedPorts([bad]), /invalid range format for --expose/);
    const r = parseRunArgs(['--cidfile=/tmp/c', '--stop-timeout', '3', '--stop-signal=INT', 'img']);
    assert.deepEqual([r.flags.cidfile, r.flags.stopTimeout, r.flags.stopSignal], ['/tmp/c', '3', 'INT']);
  });
});
