// The CLI entry: command dispatch and argument handling shared by every command.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { runStrata, tempDir } from '../testing/cli.js';

const root = tempDir('strata-main-');
after(() => root.cleanup());

test('a numeric-looking container or image name stays a name', () => {
  // rm and rmi go on past a missing name and exit 1 at the end, as docker's do.
  const cases: Array<[string[], number, string]> = [
    [['rm', '1e5'], 1, 'Error: no such container: "1e5"\n'],
    [['rmi', '0123'], 1, 'Error: no such image: "0123"\n'],
    [['logs', '42'], 125, 'Error: no such container: "42"\n'],
  ];
  for (const [args, status, stderr] of cases) {
    const result = runStrata(args, { root: root.dir });
    assert.equal(result.stderr, stderr, args.join(' '));
    assert.equal(result.status, status, args.join(' '));
  }
});

test('an unknown command is one line and exit code 125', () => {
  const result = runStrata(['frobnicate'], { root: root.dir });
  assert.equal(result.status, 125);
  assert.equal(result.stderr, 'Error: unknown command "frobnicate" for "strata"\n');
});

test('help [COMMAND] is Docker\'s, and an unknown global flag is named before a command is asked for', () => {
  const top = runStrata(['help'], { root: root.dir });
  assert.equal(top.status, 0, top.stderr);
  assert.match(top.stdout, /^Usage: strata COMMAND/);
  const ps = runStrata(['help', 'ps'], { root: root.dir });
  assert.equal(ps.status, 0, ps.stderr);
  assert.match(ps.stdout, /--quiet/);
  assert.equal(runStrata(['help', 'run'], { root: root.dir }).stdout, runStrata(['run', '--help'], { root: root.dir }).stdout);
  for (const args of [['--bogus'], ['--bogus=1']]) {
    const r = runStrata(args, { root: root.dir });
    assert.equal(r.status, 125);
    assert.equal(r.stderr, 'Error: unknown flag: --bogus\n');
  }
  assert.equal(runStrata([], { root: root.dir }).stderr.split('\n')[0], 'Error: a command is required');
});
