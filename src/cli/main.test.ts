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
