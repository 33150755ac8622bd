// The repository's own build files stay true: the Dockerfile that builds strata's image names
// only sources the repository has (and its .dockerignore keeps), and the Kubernetes Job builds
// with a registry cache both ways, with flags strata accepts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseDockerfile } from '../builder/index.js';
import { parseCacheSpec } from './cache-spec.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test("strata's Dockerfile copies only what the repository has and its .dockerignore keeps", async () => {
  const df = await parseDockerfile(fs.readFileSync(path.join(repo, 'Dockerfile'), 'utf8'), 'Dockerfile');
  const ignored = fs.readFileSync(path.join(repo, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
  const copies = df.instructions.filter((i) => i.keyword === 'COPY' && !i.flags.some((f) => f.startsWith('--from')));
  assert.ok(copies.length >= 4);
  for (const c of copies) {
    for (const src of c.args.slice(0, -1)) {
      const rel = src.replace(/\/$/, '');
      assert.ok(fs.existsSync(path.join(repo, rel)), `COPY ${src}: not in the repository`);
      assert.ok(!ignored.includes(rel), `COPY ${src}: excluded by .dockerignore`);
    }
  }
  assert.deepEqual(df.instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args[0]), ['${NODE_IMAGE}', '${NODE_IMAGE}']);
  assert.ok(df.instructions.some((i) => i.keyword === 'ENTRYPOINT' && i.args.join(' ') === 'strata'));
});

test('the Kubernetes Job builds privileged, importing and exporting a registry cache', () => {
  const yaml = fs.readFileSync(path.join(repo, 'deploy', 'k8s', 'build-job.yaml'), 'utf8');
  const setup = fs.readFileSync(path.join(repo, 'deploy', 'k8s', 'setup.yaml'), 'utf8');
  assert.match(yaml, /^kind: Job$/m);
  assert.match(yaml, /privileged: true/);
  assert.match(yaml, /name: strata-build$/m, 'reads the ConfigMap setup.yaml makes');
  const cache = /^\s+CACHE: (\S+)$/m.exec(setup)![1];
  const from = /--cache-from "([^"]+)"/.exec(yaml)![1].replace('$CACHE', cache);
  const to = /--cache-to "([^"]+)"/.exec(yaml)![1].replace('$CACHE', cache);
  assert.deepEqual(parseCacheSpec(from, 'from'), { type: 'registry', ref: cache });
  assert.deepEqual(parseCacheSpec(to, 'to'), { type: 'registry', ref: cache, mode: 'max' });
  assert.match(setup, /^kind: CronJob$/m);
  assert.match(setup, /strata cache prune --older-than \d+h \\"\$CACHE\\"/);
});
