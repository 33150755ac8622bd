// Abandoned partial downloads are swept (dead or no owner, and old); a recent one, one a live
// process holds, and one the pull is about to resume are kept.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ownerStamp } from '../store/index.js';
import { lockPartial, PARTIAL_MAX_AGE_MS, sweepPartials } from './partials.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-partials-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const hex = (c: string) => c.repeat(64);
const old = new Date(Date.now() - PARTIAL_MAX_AGE_MS - 60_000);

function partial(c: string, o: { old?: boolean; lock?: string } = {}): string {
  const file = path.join(dir, `partial-${hex(c)}`);
  fs.writeFileSync(file, 'some bytes');
  if (o.old) fs.utimesSync(file, old, old);
  if (o.lock !== undefined) fs.writeFileSync(`${file}.lock`, o.lock);
  return file;
}

/** A pid that surely exited: a child that ran and was reaped. */
const deadPid = () => spawnSync('true').pid!;

test('old partials without a live owner go; recent, owned and resumed ones stay', async () => {
  const orphan = partial('a', { old: true });
  const deadOwner = partial('b', { old: true, lock: `${deadPid()}.12345` });
  const reusedPid = partial('c', { old: true, lock: `${process.pid}.1` }); // this pid, another start time
  const recent = partial('d'); // an interrupted pull a moment ago: the next pull resumes it
  const live = partial('e', { old: true, lock: ownerStamp() });
  const legacyLive = partial('f', { old: true, lock: String(process.pid) });
  const resumed = partial('0', { old: true });
  fs.writeFileSync(path.join(dir, 'unrelated'), 'x');
  fs.utimesSync(path.join(dir, 'unrelated'), old, old);

  const removed = await sweepPartials(dir, { keep: [`sha256:${hex('0')}`] });
  assert.deepEqual(removed.sort(), [orphan, deadOwner, reusedPid].sort());
  for (const f of [orphan, deadOwner, reusedPid]) {
    assert.equal(fs.existsSync(f), false, f);
    assert.equal(fs.existsSync(`${f}.lock`), false, `${f}.lock`);
  }
  for (const f of [recent, live, legacyLive, resumed, path.join(dir, 'unrelated')]) assert.equal(fs.existsSync(f), true, f);
  assert.equal(fs.readFileSync(`${live}.lock`, 'utf8'), ownerStamp(), 'a live owner\'s lock is left alone');
});

test('a lock of a dead owner is broken; a live owner\'s is not', async () => {
  const lock = path.join(dir, `partial-${hex('9')}.lock`);
  fs.writeFileSync(lock, `${deadPid()}.777`);
  assert.equal(await lockPartial(lock), true);
  assert.equal(fs.readFileSync(lock, 'utf8'), ownerStamp());
  // Held now by this (live) process: nobody else takes it, and a sweep leaves it.
  assert.equal(await sweepPartials(dir, { maxAgeMs: 0 }).then((r) => r.some((f) => f.includes(hex('9')))), false);
  assert.equal(fs.existsSync(lock), true);
});
