import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir } from '../testing/cli.js';
import { withLock } from './lock.js';

test('withLock serialises critical sections', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const lock = path.join(dir, 'lock');
    let inside = 0;
    let maxInside = 0;
    await Promise.all(Array.from({ length: 10 }, () => withLock(lock, async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await new Promise((r) => setTimeout(r, 2));
      inside--;
    })));
    assert.equal(maxInside, 1);
    assert.equal(fs.existsSync(lock), false, 'lock released');
  } finally {
    cleanup();
  }
});

test('a lock left by a dead process is broken', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const lock = path.join(dir, 'lock');
    // A pid that certainly exited: a child we ran to completion.
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(lock, `${child.stdout} 12345\n`);
    const got = await withLock(lock, async () => 'ok', { timeoutMs: 5000 });
    assert.equal(got, 'ok');
  } finally {
    cleanup();
  }
});

test('a lock held by a live process is respected until the timeout', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const lock = path.join(dir, 'lock');
    fs.writeFileSync(lock, `${process.ppid}\n`); // our parent is alive
    await assert.rejects(withLock(lock, async () => 'no', { timeoutMs: 200 }), /timed out waiting for lock/);
  } finally {
    cleanup();
  }
});

test('the lock is released when the critical section throws', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const lock = path.join(dir, 'lock');
    await assert.rejects(withLock(lock, async () => { throw new Error('boom'); }), /boom/);
    assert.equal(fs.existsSync(lock), false);
  } finally {
    cleanup();
  }
});
