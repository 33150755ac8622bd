import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExecArgs } from './lifecycle-exec.js';

describe('exec arguments', () => {
  it('takes flags up to the container and leaves the command alone', () => {
    assert.deepEqual(parseExecArgs(['-it', '-e', 'A=1', '--env=B=2', '-w', '/tmp', '-u', 'nobody', 'web', 'sh', '-c', 'ls -l']), {
      container: 'web', command: ['sh', '-c', 'ls -l'], env: ['A=1', 'B=2'], envFile: [], interactive: true, tty: true, workdir: '/tmp', user: 'nobody',
    });
    assert.deepEqual(parseExecArgs(['-d', 'c', 'true']), { container: 'c', command: ['true'], env: [], envFile: [], detach: true });
    assert.deepEqual(parseExecArgs(['--privileged', '--env-file', 'f.env', '--env-file=g.env', 'c', 'id']), {
      container: 'c', command: ['id'], env: [], envFile: ['f.env', 'g.env'], privileged: true,
    });
    assert.deepEqual(parseExecArgs(['-ieX=1', 'c', 'env']).env, ['X=1']);
    assert.deepEqual(parseExecArgs(['--', 'c', '-x']).command, ['-x']);
    // a bool flag's =VALUE, as pflag reads it
    assert.deepEqual(parseExecArgs(['--tty=false', '-i=true', '--privileged=0', 'c', 'sh']), {
      container: 'c', command: ['sh'], env: [], envFile: [], tty: false, interactive: true, privileged: false,
    });
  });

  it('refuses what docker refuses', () => {
    assert.throws(() => parseExecArgs(['c']), /requires at least 2 arguments/);
    assert.throws(() => parseExecArgs(['--bogus', 'c', 'x']), /unknown flag: --bogus/);
    assert.throws(() => parseExecArgs(['--no-such=1', 'c', 'x']), /^StrataError: unknown flag: --no-such$/);
    assert.throws(() => parseExecArgs(['--tty=maybe', 'c', 'x']), /^StrataError: invalid argument "maybe" for "-t, --tty" flag: strconv.ParseBool: parsing "maybe": invalid syntax$/);
    assert.throws(() => parseExecArgs(['-iz', 'c', 'x']), /unknown shorthand flag: 'z' in -iz/);
    assert.throws(() => parseExecArgs(['-e']), /flag needs an argument/);
  });
});
