import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { UnionView } from './union.js';
import { parseGroup, parsePasswd, resolveUser, resolveUserSpec } from './user.js';

const passwd = parsePasswd('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n# comment\nbroken line\n');
const groups = parseGroup('root:x:0:\nwheel:x:10:root,app\ndocker:x:999:app\nnogroup:x:65534:\nstaff:x:50:\n');

describe('resolveUserSpec', () => {
  it('defaults to root with its supplementary groups', () => {
    assert.deepEqual(resolveUserSpec('', passwd, groups), { uid: 0, gid: 0, additionalGids: [10], home: '/root' });
  });
  it('resolves a name to its uid, primary gid and member groups', () => {
    assert.deepEqual(resolveUserSpec('app', passwd, groups), { uid: 1000, gid: 1000, additionalGids: [10, 999], home: '/home/app' });
  });
  it('takes an unknown numeric uid as is, with gid 0', () => {
    assert.deepEqual(resolveUserSpec('4242', passwd, groups), { uid: 4242, gid: 0, additionalGids: [], home: '/' });
  });
  it('resolves an explicit group by name or number, without member groups', () => {
    assert.deepEqual(resolveUserSpec('app:staff', passwd, groups), { uid: 1000, gid: 50, additionalGids: [], home: '/home/app' });
    assert.equal(resolveUserSpec('nobody:123', passwd, groups).gid, 123);
  });
  it('refuses unknown names with Docker wording', () => {
    assert.throws(() => resolveUserSpec('ghost', passwd, groups), /unable to find user ghost: no matching entries in passwd file/);
    assert.throws(() => resolveUserSpec('app:ghosts', passwd, groups), /unable to find group ghosts: no matching entries in group file/);
  });
  it('adds --group-add groups', () => {
    assert.deepEqual(resolveUserSpec('nobody', passwd, groups, ['staff', '777']).additionalGids, [50, 777]);
  });
});

describe('resolveUser', () => {
  it('reads /etc/passwd through a symlink only inside the root', async () => {
    const t = tempDir();
    try {
      const layer = path.join(t.dir, 'layer');
      fs.mkdirSync(path.join(layer, 'etc'), { recursive: true });
      fs.mkdirSync(path.join(t.dir, 'host', 'etc'), { recursive: true });
      fs.writeFileSync(path.join(t.dir, 'host', 'etc', 'passwd'), 'evil:x:0:0::/:/bin/sh\n');
      // A passwd link climbing out of the root: followed as if chrooted, so the host file is never read.
      fs.symlinkSync('../../../../../host/etc/passwd', path.join(layer, 'etc', 'passwd'));
      await assert.rejects(resolveUser(UnionView.of([layer]), 'evil'), /unable to find user evil/);
      fs.mkdirSync(path.join(layer, 'host', 'etc'), { recursive: true });
      fs.writeFileSync(path.join(layer, 'host', 'etc', 'passwd'), 'inside:x:7:8::/:/bin/sh\n');
      assert.equal((await resolveUser(UnionView.of([layer]), 'inside')).uid, 7);
    } finally {
      t.cleanup();
    }
  });
});
