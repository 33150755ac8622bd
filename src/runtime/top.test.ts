import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StrataError } from '../errors.js';
import { parsePsOutput, topProcesses } from './top.js';

describe('top', () => {
  it("keeps ps rows whose PID is the container's, the last column with its spaces (Docker's parsePSOutput)", () => {
    const out = 'USER  PID %CPU COMMAND\nroot    1  0.0 /sbin/init splash\nroot   42  1.5 sleep 300\nroot  420  0.0 sh -c x y\n';
    assert.deepEqual(parsePsOutput(out, [42, 420]), { titles: ['USER', 'PID', '%CPU', 'COMMAND'], processes: [['root', '42', '1.5', 'sleep 300'], ['root', '420', '0.0', 'sh -c x y']] });
    assert.throws(() => parsePsOutput('COMMAND\nsleep\n', [1]), (err: unknown) => err instanceof StrataError && err.message === "couldn't find PID field in ps output");
  });

  it('runs the host ps with the options and -q PIDS; refuses another column named PID', () => {
    const r = topProcesses([process.pid], ['-o', 'pid,comm']);
    assert.deepEqual(r.titles, ['PID', 'COMMAND']);
    assert.deepEqual(r.processes, [[String(process.pid), 'node']]);
    assert.throws(() => topProcesses([process.pid], ['-o', 'comm=PID']), /specifying "comm=PID" is not allowed/);
    assert.throws(() => topProcesses([process.pid], ['--no-such-option']), /^StrataError: ps: /);
  });
});
