// `logs` of a container that ran in the foreground: its output went to the terminal and to its
// json-file log, as with Docker. Real runc, a private state root.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureBusybox } from '../store/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir } from '../testing/cli.js';

const root = tempDir('strata-fglogs-');
const s = (args: string[]) => runStrata(args, { root: root.dir });
before(async () => {
  await ensureBusybox(await openStore(root.dir));
});
after(() => root.cleanup());

test('logs shows what a foreground container printed, streams kept apart', () => {
  const run = s(['run', '--name', 'fg', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; printf tail']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'out1\ntail', 'the terminal still gets the output');
  assert.equal(run.stderr, 'err1\n');
  const logs = s(['logs', 'fg']);
  assert.equal(logs.status, 0, logs.stderr);
  assert.equal(logs.stdout, 'out1\ntail');
  assert.equal(logs.stderr, 'err1\n');
  assert.match(s(['logs', '-t', '--tail', '1', 'fg']).stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z tail$/);
});

test('a --rm container leaves no log behind', () => {
  const run = s(['run', '--rm', '--name', 'gone', 'busybox', 'echo', 'hi']);
  assert.equal(run.stdout, 'hi\n', run.stderr);
  const logs = s(['logs', 'gone']);
  assert.equal(logs.stderr, 'Error: no such container: "gone"\n');
  assert.equal(logs.status, 125);
});
