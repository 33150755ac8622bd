import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { askPythonSync, keepAnswer, keptAnswer, PYTHON } from './ports-relay-check.js';

function scratch(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'strata-splice-check-'));
}

describe('the splice relay check kept in /run', () => {
  it('holds while every stamped file is unchanged, and not after a change, a removal or for another python', () => {
    const dir = scratch();
    try {
      const files = ['python3', 'os.py', 'ctypes.so'].map((f) => path.join(dir, f));
      for (const f of files) fs.writeFileSync(f, f);
      const kept = path.join(dir, 'run', 'splice-relay');
      assert.equal(keptAnswer(kept, '/x/python3'), undefined, 'nothing kept yet');
      keepAnswer(`${files.join('\n')}\n\n`, kept, '/x/python3');
      assert.equal(keptAnswer(kept, '/x/python3'), true);
      assert.equal(keptAnswer(kept, '/y/python3'), undefined, 'another interpreter asks again');
      // An upgrade replaces a file: another inode, size or time.
      fs.writeFileSync(`${files[1]}.new`, 'upgraded os.py');
      fs.renameSync(`${files[1]}.new`, files[1]!);
      assert.equal(keptAnswer(kept, '/x/python3'), undefined, 'a replaced module asks again');
      keepAnswer(files.join('\n'), kept, '/x/python3');
      assert.equal(keptAnswer(kept, '/x/python3'), true);
      fs.rmSync(files[2]!);
      assert.equal(keptAnswer(kept, '/x/python3'), undefined, 'a removed module asks again');
      // A file listed that is not there: nothing is kept.
      fs.rmSync(kept);
      keepAnswer(files.join('\n'), kept, '/x/python3');
      assert.equal(fs.existsSync(kept), false);
      fs.mkdirSync(path.dirname(kept), { recursive: true });
      fs.writeFileSync(kept, '{"python":"/x/python3","ok":true,"files":{}}\n');
      assert.equal(keptAnswer(kept, '/x/python3'), undefined, 'an answer without stamps is not one');
      // A write torn by a kill -9: a prefix of the answer.
      keepAnswer(`${files[0]}\n${files[1]}`, kept, '/x/python3');
      assert.equal(keptAnswer(kept, '/x/python3'), true);
      const whole = fs.readFileSync(kept, 'utf8');
      fs.writeFileSync(kept, whole.slice(0, whole.length - 3));
      assert.equal(keptAnswer(kept, '/x/python3'), undefined, 'a torn answer is not one');
      fs.writeFileSync(kept, 'garbage');
      assert.equal(keptAnswer(kept, '/x/python3'), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const out = askPythonSync();
  it("stamps the real interpreter's files when python3 can splice", { skip: out === undefined && 'python3 with os.splice is not available' }, () => {
    const lines = out!.split('\n').filter((l) => l.startsWith('/'));
    assert.ok(lines.some((l) => /\/os\.py$/.test(l)), out);
    assert.ok(lines.some((l) => /python3/.test(l)), out);
    const dir = scratch();
    try {
      const kept = path.join(dir, 'splice-relay');
      keepAnswer(out!, kept);
      assert.equal(keptAnswer(kept), true);
      const text = JSON.parse(fs.readFileSync(kept, 'utf8')) as { python: string; files: Record<string, string> };
      assert.equal(text.python, PYTHON);
      assert.ok(Object.keys(text.files).length >= lines.length - 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not given by an interpreter that fails the check', () => {
    assert.equal(askPythonSync('/bin/false'), undefined);
  });
});
