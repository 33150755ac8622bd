// The CLI entry: command dispatch and argument handling shared by every command.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
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

test("Docker's other names: image build, builder build and buildx build are build, builder/buildx prune and du are cache's", () => {
  const ctx = tempDir('strata-alias-ctx-');
  try {
    fs.writeFileSync(path.join(ctx.dir, 'Dockerfile'), 'FROM scratch\nLABEL via=alias\n');
    for (const cmd of [['image', 'build'], ['builder', 'build'], ['buildx', 'build', '--load'], ['buildx', 'build', '--load=true']]) {
      const r = runStrata([...cmd, '-q', '-t', 'aliased', ctx.dir], { root: root.dir, timeoutMs: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    }
    const prune = runStrata(['builder', 'prune', '-f'], { root: root.dir });
    assert.equal(prune.status, 0, prune.stderr);
    assert.match(prune.stdout, /^Deleted: [0-9a-f]{64}\n(.*\n)*Total reclaimed space: /);
    assert.equal(runStrata(['cache', 'prune', '-f'], { root: root.dir }).stdout, 'Total reclaimed space: 0B\n', 'builder prune left nothing');
    for (const cmd of [['builder', 'du'], ['buildx', 'du'], ['buildx', 'prune', '-f']]) {
      const r = runStrata(cmd, { root: root.dir });
      assert.deepEqual([r.status, r.stdout], [0, runStrata(['cache', ...cmd.slice(1)], { root: root.dir }).stdout], cmd.join(' '));
    }
  } finally {
    ctx.cleanup();
  }
});
