import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseFailpoint } from './failpoint.js';

const moduleUrl = new URL('./failpoint.js', import.meta.url).href;

/** Runs a node program that imports the failpoint module (as `fp`) under STRATA_FAILPOINT. */
function runWith(spec: string | undefined, body: string) {
  const env = { ...process.env };
  delete env.STRATA_FAILPOINT;
  if (spec !== undefined) env.STRATA_FAILPOINT = spec;
  const program = `const fp = await import(${JSON.stringify(moduleUrl)});\n${body}`;
  // A shell in between, in a session of its own: with `:group`, it is in the killed group and
  // must die too (and the test runner, in another group, must not).
  return spawnSync('setsid', ['-w', 'sh', '-c', `"${process.execPath}" --input-type=module -e "$1"; echo "shell survived $?"`, 'sh', program], { env, encoding: 'utf8' });
}

describe('failpoints', () => {
  it('parses NAME, NAME:N, NAME:group and NAME:N:group', () => {
    assert.equal(parseFailpoint(undefined), null);
    assert.equal(parseFailpoint(''), null);
    assert.deepEqual(parseFailpoint('blob.before-rename'), { name: 'blob.before-rename', nth: 1, group: false, stop: false, hits: 0 });
    assert.deepEqual(parseFailpoint('a.b:3'), { name: 'a.b', nth: 3, group: false, stop: false, hits: 0 });
    assert.deepEqual(parseFailpoint('a.b:group'), { name: 'a.b', nth: 1, group: true, stop: false, hits: 0 });
    assert.deepEqual(parseFailpoint('a.b:2:group'), { name: 'a.b', nth: 2, group: true, stop: false, hits: 0 });
    assert.deepEqual(parseFailpoint('a.b:2:stop'), { name: 'a.b', nth: 2, group: false, stop: true, hits: 0 });
    assert.throws(() => parseFailpoint('a.b:0'), /invalid STRATA_FAILPOINT "a\.b:0"/);
    assert.throws(() => parseFailpoint('a.b:soon'), /expected NAME\[:N\]\[:group\|:stop\]/);
  });

  it('kills the process at the Nth hit of the named point only, and hides the variable from children', () => {
    const body = `
      console.log('env ' + (process.env.STRATA_FAILPOINT ?? 'gone'));
      for (let i = 1; i <= 5; i++) { fp.failpoint('other.point'); console.log('hit ' + i); fp.failpoint('test.point'); }
      console.log('finished');`;
    const r = runWith('test.point:3', body);
    assert.equal(r.stdout, 'env gone\nhit 1\nhit 2\nhit 3\nshell survived 137\n', r.stderr);
    const unset = runWith(undefined, body);
    assert.match(unset.stdout, /hit 5\nfinished\nshell survived 0\n$/);
  });

  it('with :group, kills the whole process group', () => {
    const r = runWith('test.point:group', `console.log('before'); fp.failpoint('test.point'); console.log('after');`);
    assert.equal(r.stdout, 'before\n');
    assert.equal(r.signal, 'SIGKILL', 'the shell of the same group died too');
  });
});
