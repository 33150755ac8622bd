// Reading extended attributes never follows a link: a link's own attributes (none, for user.*)
// are read, not those of what it points at.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, it } from 'node:test';
import { tempDir } from '../testing/cli.js';
import { readXattrsTree } from './xattr.js';

const t = tempDir('strata-xattr-');
after(() => t.cleanup());

it('reads the attributes of links themselves, not of their targets', async () => {
  const outside = path.join(t.dir, 'host-file');
  fs.writeFileSync(outside, 'host');
  execFileSync('setfattr', ['-n', 'user.secret', '-v', 'host', outside]);
  const tree = path.join(t.dir, 'tree');
  fs.mkdirSync(tree);
  fs.writeFileSync(path.join(tree, 'own'), 'own');
  execFileSync('setfattr', ['-n', 'user.mine', '-v', 'yes', path.join(tree, 'own')]);
  fs.symlinkSync(outside, path.join(tree, 'to-host'));
  fs.symlinkSync('/dev/stdout', path.join(tree, 'to-stdout'));
  fs.symlinkSync('own', path.join(tree, 'to-own'));
  const got = await readXattrsTree(tree);
  assert.deepEqual([...got.keys()], [path.join(tree, 'own')]);
  assert.equal(got.get(path.join(tree, 'own'))?.get('user.mine')?.toString(), 'yes');
});
