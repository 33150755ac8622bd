// The store is an OCI layout that podman/skopeo users address by the short names Docker shows:
// `skopeo inspect oci:ROOT:t6` (containers/image matches ref.name exactly). The short-name
// descriptors follow tags and rmi, and strata itself never lists them as names of its own.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runStrata, tempDir } from '../testing/cli.js';
import { closeHashPool } from '../hash/pool.js';
import { openStore } from '../store/store.js';
import { ensureBusybox } from '../testing/busybox.js';
import { readIndex, REF_NAME } from '../store/index-file.js';

after(closeHashPool);

const hasSkopeo = spawnSync('sh', ['-c', 'command -v skopeo']).status === 0;

function ok(r: { status: number; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

const skopeo = (root: string, name: string) => spawnSync('skopeo', ['inspect', `oci:${root}:${name}`], { encoding: 'utf8' });
const rawNames = (root: string) =>
  (JSON.parse(fs.readFileSync(path.join(root, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] }).manifests
    .map((d) => d.annotations?.[REF_NAME]).filter(Boolean).sort();

test('skopeo finds images by their short names; tags and rmi keep the short names true', { skip: !hasSkopeo && 'skopeo is not installed' }, async () => {
  const t = tempDir();
  const root = path.join(t.dir, 'root');
  try {
    const img = await ensureBusybox(await openStore(root));
    ok(runStrata(['tag', 'busybox', 't6'], { root }), 'tag');
    ok(runStrata(['tag', 'busybox', 'localhost/app:v1'], { root }), 'tag');
    for (const name of ['t6', 't6:latest', 'docker.io/library/t6:latest', 'busybox', 'localhost/app:v1']) {
      const r = skopeo(root, name);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.deepEqual(JSON.parse(r.stdout).Layers, img.config.rootfs.diff_ids, name);
    }
    assert.deepEqual(rawNames(root), [
      'busybox', 'busybox:latest', 'docker.io/library/busybox:latest', 'docker.io/library/t6:latest', 'localhost/app:v1', 't6', 't6:latest',
    ]);
    // strata's own view holds the full names only.
    assert.deepEqual((await readIndex(path.join(root, 'index.json'))).manifests.map((d) => d.annotations?.[REF_NAME]).sort(),
      ['docker.io/library/busybox:latest', 'docker.io/library/t6:latest', 'localhost/app:v1']);
    assert.deepEqual(ok(runStrata(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root }), 'images').trim().split('\n').sort(),
      ['busybox:latest', 'localhost/app:v1', 't6:latest']);

    ok(runStrata(['rmi', 't6'], { root }), 'rmi');
    assert.notEqual(skopeo(root, 't6').status, 0, 'the short name goes with its tag');
    assert.ok(!rawNames(root).includes('t6:latest'));
    ok(runStrata(['rmi', 'busybox', 'localhost/app:v1'], { root }), 'rmi');
    assert.deepEqual(rawNames(root), []);
    ok(runStrata(['image', 'prune', '-a', '-f'], { root }), 'prune');
    assert.equal(JSON.parse(fs.readFileSync(path.join(root, 'index.json'), 'utf8')).manifests.length, 0, 'GC left no alias behind');
  } finally {
    t.cleanup();
  }
});
