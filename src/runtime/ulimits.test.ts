// --ulimit: Docker's parsing, the merge over the default rlimits, the exact RLIM_INFINITY in
// config.json, and what `ulimit` shows inside real containers (foreground, detached + exec).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { StrataError } from '../errors.js';
import { strataCommand } from '../testing/cli.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';
import { mergeRlimits, parseUlimit, parseUlimits, RLIM_INFINITY, specJson, type Rlimit } from './ulimits.js';

describe('--ulimit parsing and merging', () => {
  it("parses Docker's NAME=SOFT[:HARD], -1 for unlimited", () => {
    assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Hard: 2048, Soft: 1024 });
    assert.deepEqual(parseUlimit('nproc=100'), { Name: 'nproc', Hard: 100, Soft: 100 });
    assert.deepEqual(parseUlimit('core=-1'), { Name: 'core', Hard: -1, Soft: -1 });
    assert.deepEqual(parseUlimit('stack=8192:-1'), { Name: 'stack', Hard: -1, Soft: 8192 });
    assert.deepEqual(parseUlimits(['nofile=1:2', 'nproc=5', 'nofile=3:4']), [{ Name: 'nofile', Hard: 4, Soft: 3 }, { Name: 'nproc', Hard: 5, Soft: 5 }]);
  });

  it("refuses what Docker refuses, in Docker's words", () => {
    const cases: Array<[string, string]> = [
      ['nofile', 'invalid ulimit argument: nofile'],
      ['as=1', 'invalid ulimit type: as'],
      ['nofile=x', 'strconv.ParseInt: parsing "x": invalid syntax'],
      ['nofile=1:', 'strconv.ParseInt: parsing "": invalid syntax'],
      ['nofile=2:1', 'ulimit soft limit must be less than or equal to hard limit: 2 > 1'],
      ['nofile=1:2:3', 'too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`'],
    ];
    for (const [text, why] of cases) {
      assert.throws(() => parseUlimit(text), (err: Error) => err instanceof StrataError && err.message === `invalid argument "${text}" for "--ulimit" flag: ${why}`, text);
    }
  });

  it('replaces defaults by type and writes RLIM_INFINITY exactly', () => {
    const defaults: Rlimit[] = [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }, { type: 'RLIMIT_CORE', hard: RLIM_INFINITY, soft: RLIM_INFINITY }];
    const merged = mergeRlimits(defaults, [parseUlimit('nofile=10:20'), parseUlimit('memlock=-1')]);
    assert.deepEqual(merged, [
      { type: 'RLIMIT_CORE', hard: RLIM_INFINITY, soft: RLIM_INFINITY },
      { type: 'RLIMIT_NOFILE', soft: 10, hard: 20 },
      { type: 'RLIMIT_MEMLOCK', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
    ]);
    assert.equal(specJson({ rlimits: merged.slice(2) }), '{"rlimits":[{"type":"RLIMIT_MEMLOCK","soft":18446744073709551615,"hard":18446744073709551615}]}');
  });
});

describe('--ulimit in real containers', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => (fx = await lifecycleFixture()));
  after(async () => fx.teardown());

  const show = 'for f in n u c s l; do printf "%s:%s " $(ulimit -S$f) $(ulimit -H$f); done';

  it("gives Docker's defaults whatever the caller's own limits", () => {
    // The caller's soft nofile limit is lowered: the container does not inherit it.
    const { command, args } = strataCommand();
    const r = spawnSync('sh', ['-c', 'ulimit -S -n 512 && ulimit -S -c 0 && exec "$@"', 'sh', command, ...args, 'run', '--rm', 'busybox', 'sh', '-c', show], {
      env: { ...process.env, STRATA_ROOT: fx.root }, encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    // soft = hard = our own hard limit (nofile at most 1048576), as containerd's LimitX=infinity passes on.
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const hard = (label: string) => new RegExp(`^${label}\\s+\\S+\\s+(\\S+)`, 'm').exec(limits)![1]!;
    const [n, u, c] = [hard('Max open files'), hard('Max processes'), hard('Max core file size')];
    const nofile = n === 'unlimited' ? '1048576' : String(Math.min(Number(n), 1048576));
    assert.ok(r.stdout.startsWith(`${nofile}:${nofile} ${u}:${u} ${c}:${c} `), r.stdout);
  });

  it('applies --ulimit on run, create + start and to exec in a detached container, and shows it in inspect', () => {
    const r = fx.strata(['run', '--rm', '--ulimit', 'nofile=1024:2048', '--ulimit=nproc=100', '--ulimit', 'core=0', '--ulimit', 'stack=16777216:-1', '--ulimit', 'memlock=65536', 'busybox', 'sh', '-c', show]);
    assert.equal(r.stdout, '1024:2048 100:100 0:0 16384:unlimited 64:64 ', r.stderr);
    assert.equal(fx.strata(['create', '--name', 'ul', '--ulimit', 'nofile=512', 'busybox', 'sh', '-c', 'ulimit -n']).status, 0);
    assert.deepEqual(JSON.parse(fx.strata(['inspect', '--format', '{{json .HostConfig.Ulimits}}', 'ul']).stdout), [{ Name: 'nofile', Hard: 512, Soft: 512 }]);
    assert.equal(fx.strata(['start', '-a', 'ul']).stdout, '512\n');
    assert.equal(fx.strata(['run', '-d', '--name', 'uld', '--ulimit', 'nofile=300:400', 'busybox', 'sleep', '60']).status, 0);
    const [soft, hard] = fx.strata(['exec', 'uld', 'sh', '-c', 'ulimit -Sn; ulimit -Hn']).stdout.split('\n');
    assert.equal(hard, '400');
    // runc before 1.1.13 sets an exec's rlimits with prlimit(2) while its Go runtime raises the soft
    // NOFILE to the hard one: the soft limit of `runc exec` is racy there (runc#4195, fixed by #4265).
    if (runcFixesExecNofile()) assert.equal(soft, '300');
    else assert.ok(soft === '300' || soft === '400', soft);
    assert.equal(fx.strata(['rm', '-f', 'uld']).status, 0);
  });

  it('refuses a bad --ulimit in one line before creating anything', () => {
    const r = fx.strata(['run', '--rm', '--name', 'never', '--ulimit', 'nofile=2:1', 'busybox', 'true']);
    assert.equal(r.status, 125);
    assert.equal(r.stderr, 'Error: invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1\n');
    assert.doesNotMatch(fx.strata(['ps', '-a']).stdout, /never/);
  });
});

/** Whether this machine's runc sets an exec's soft RLIMIT_NOFILE without the race of runc#4195. */
function runcFixesExecNofile(): boolean {
  const m = /runc version (\d+)\.(\d+)\.(\d+)/.exec(spawnSync('runc', ['--version'], { encoding: 'utf8' }).stdout ?? '');
  if (!m) return true;
  const [major, minor, patch] = m.slice(1).map(Number) as [number, number, number];
  return major > 1 || minor > 1 || patch >= 13;
}
