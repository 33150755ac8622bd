// cgroup reading over file trees of both versions (testdata/cgroup): this machine boots the
// hybrid layout, so v2 (Debian 12's default) is checked on a tree shaped as runc leaves it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { isUnified, locateCgroup, readCgroupLimits, readCgroupUsage } from './cgroups.js';
import { sampleStats } from './shim/stats.js';

const testdata = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'testdata', 'cgroup');
const roots = (version: string) => ({ proc: path.join(testdata, version, 'proc'), cgroup: path.join(testdata, version, 'sys', 'fs', 'cgroup') });
const ID = '0123456789abcdef';

describe('cgroups', () => {
  it('finds a v2 container at its unified path and reads cpu.stat, memory.current/max, io.stat, pids.current', () => {
    const v2 = roots('v2');
    assert.equal(isUnified(v2), true);
    const where = locateCgroup(4242, v2);
    assert.deepEqual(where, { version: 2, dir: path.join(v2.cgroup, 'strata', ID) });
    assert.deepEqual(readCgroupUsage(where!), {
      cpuNs: 2_500_000_000, memUsage: 10485760 - 2097152, memLimit: 67108864, blockRead: 5096, blockWrite: 8216, pids: 3,
    });
    // memory.max "max": no limit; missing files read as zero.
    assert.deepEqual(readCgroupUsage(locateCgroup(4343, v2)!), { cpuNs: 7000, memUsage: 1000, memLimit: undefined, blockRead: 0, blockWrite: 0, pids: 0 });
  });

  it('reads the v1 controllers of the hybrid layout, joined cpu,cpuacct included', () => {
    const v1 = roots('v1');
    assert.equal(isUnified(v1), false);
    const where = locateCgroup(4242, v1);
    assert.equal(where?.version, 1);
    assert.equal(where.version === 1 && where.dirs.get('cpuacct'), path.join(v1.cgroup, 'cpu,cpuacct', 'strata', ID));
    // The same usage as the v2 tree holds, read from v1's files (an unlimited v1 limit is no limit).
    assert.deepEqual(readCgroupUsage(where!), { cpuNs: 2_500_000_000, memUsage: 10485760 - 2097152, memLimit: undefined, blockRead: 4096, blockWrite: 8192, pids: 3 });
  });

  it('gives no location for a process that is gone', () => {
    assert.equal(locateCgroup(99999999, roots('v2')), undefined);
  });

  it('samples stats from a v2 tree: limit, usage and pids', async () => {
    const s = await sampleStats(4242, 1, roots('v2'));
    assert.deepEqual([s.memUsage, s.memLimit, s.pids, s.blockRead, s.blockWrite], [8388608, 67108864, 3, 5096, 8216]);
    assert.equal(s.cpuPercent, 0, 'the usage did not change between the two readings');
  });

  it('reads the real cgroup of this process on this host', () => {
    const where = locateCgroup(process.pid);
    assert.ok(where);
    assert.equal(where.version, fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 2 : 1);
    assert.ok(readCgroupUsage(where).pids >= 0);
  });

  it('reads the limits runc wrote: memory.max, cpu.max, cpu.weight, pids.max (v2) and their v1 files', () => {
    const v2 = roots('v2');
    assert.deepEqual(readCgroupLimits(locateCgroup(4242, v2)!), { memory: 67108864, cpuQuota: 50000, cpuPeriod: 100000, cpuWeight: 20, pids: 50 });
    assert.deepEqual(readCgroupLimits(locateCgroup(4343, v2)!), { memory: undefined, cpuQuota: undefined, cpuPeriod: 100000, cpuWeight: undefined, pids: undefined });
    assert.deepEqual(readCgroupLimits(locateCgroup(4242, roots('v1'))!), { memory: undefined, cpuQuota: 50000, cpuPeriod: 100000, cpuShares: 512, pids: 50 });
  });
});
