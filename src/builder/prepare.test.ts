// The static pass without containers: keys, config and history from fake base images.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeHashPool } from '../hash/pool.js';
import type { Image, ImageConfig } from '../store/types.js';
import { tempDir } from '../testing/cli.js';
import { explainMiss } from '../store/cache-explain.js';
import { BuildContext } from './context.js';
import { plan } from './planner.js';
import { prepare, type PreparedStage } from './prepare.js';
import { parseForTest } from './testing/parse.js';

const platform = { os: 'linux', architecture: 'amd64' };

function fakeImage(id: string, config: Partial<ImageConfig['config']> = {}): Image {
  const cfg: ImageConfig = { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['sh'], ...config }, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
  return { id: `sha256:${id.repeat(64).slice(0, 64)}`, manifestDigest: '', manifest: {} as Image['manifest'], config: cfg, names: [], size: 0 };
}

describe('prepare', () => {
  let t: ReturnType<typeof tempDir>;
  let ctxDir: string;
  const images = new Map<string, Image>([['busybox', fakeImage('b')], ['trig', fakeImage('c', { OnBuild: ['RUN echo triggered', 'ENV FROM_TRIGGER=1'] })]]);
  before(() => {
    t = tempDir('strata-prep-');
    ctxDir = t.dir;
    fs.mkdirSync(path.join(ctxDir, 'src'));
    for (const n of ['a', 'b', 'c']) fs.writeFileSync(path.join(ctxDir, 'src', `${n}.txt`), n);
  });
  after(async () => {
    await closeHashPool();
    t.cleanup();
  });

  async function run(text: string, opts: { buildArgs?: Record<string, string>; target?: string } = {}): Promise<Map<number, PreparedStage>> {
    const p = plan(parseForTest(text), { platform, ...opts });
    const context = await BuildContext.open(ctxDir);
    return prepare({
      plan: p, context, slotPrefix: 'test', network: 'host', secrets: new Map(), platform,
      resolveImage: async (ref) => {
        const img = images.get(ref);
        if (!img) throw new Error(`no such image: "${ref}"`);
        return img;
      },
      parseTrigger: (line) => parseForTest(line).instructions[0],
    });
  }

  const DF = [
    'FROM busybox AS build',
    'ARG VERSION=1',
    'ENV APP=/app',
    'WORKDIR $APP',
    'COPY src/ ./src/',
    'RUN echo $VERSION > v',
    'FROM busybox',
    'COPY --from=build /app/v /v',
    'LABEL version=${VERSION:-none}',
    'CMD ["cat", "/v"]',
  ].join('\n');

  it('applies metadata and expands where Docker does', async () => {
    const stages = await run(DF);
    const build = stages.get(0)!;
    assert.deepEqual(build.steps.map((s) => s.display), ['WORKDIR /app', 'COPY src/ ./src/', 'RUN echo $VERSION > v']);
    assert.equal(build.config.config.WorkingDir, '/app');
    assert.deepEqual(build.config.config.Env, ['PATH=/bin', 'APP=/app']);
    const run0 = build.steps[2].action;
    assert.equal(run0.type, 'run');
    if (run0.type === 'run') {
      assert.deepEqual(run0.argv, ['/bin/sh', '-c', 'echo $VERSION > v']);
      assert.ok(run0.env.includes('VERSION=1'));
      assert.equal(run0.cwd, '/app');
    }
    assert.equal(build.steps[2].createdBy, 'RUN |1 VERSION=1 /bin/sh -c echo $VERSION > v');
    const copy = build.steps[1].action;
    assert.equal(copy.type === 'copy' && copy.dest, '/app/src/');
    const final = stages.get(1)!;
    assert.deepEqual(final.config.config.Labels, { version: 'none' }, 'ARGs do not cross stages');
    assert.deepEqual(final.config.config.Cmd, ['cat', '/v']);
    // BuildKit's history row leaves --from out (its commit message names --parents, --chown, --chmod only).
    assert.deepEqual(final.history.map((h) => h.createdBy), ['COPY /app/v /v', 'LABEL version=none', 'CMD ["cat" "/v"]']);
  });

  it('gives the same keys for the same inputs', async () => {
    const a = await run(DF);
    const b = await run(DF);
    assert.deepEqual([...a.values()].flatMap((s) => s.steps.map((x) => x.key)), [...b.values()].flatMap((s) => s.steps.map((x) => x.key)));
  });

  it('a changed file misses exactly its COPY and what follows, naming the file', async () => {
    const before = await run(DF);
    fs.writeFileSync(path.join(ctxDir, 'src', 'b.txt'), 'changed');
    const now = await run(DF);
    const [w0, c0, r0] = before.get(0)!.steps;
    const [w1, c1, r1] = now.get(0)!.steps;
    assert.equal(w1.key, w0.key);
    assert.notEqual(c1.key, c0.key);
    assert.equal(explainMiss(c1.inputs, c0.inputs), 'src/b.txt changed');
    assert.equal(explainMiss(r1.inputs, r0.inputs), 'parent step changed');
    assert.equal(explainMiss(now.get(1)!.steps[0].inputs, before.get(1)!.steps[0].inputs), 'stage build changed');
  });

  it('a build arg change misses the RUN that sees it, explained', async () => {
    const a = await run(DF);
    const b = await run(DF, { buildArgs: { VERSION: '2' } });
    assert.equal(b.get(0)!.steps[1].key, a.get(0)!.steps[1].key, 'COPY does not see build args');
    assert.equal(explainMiss(b.get(0)!.steps[2].inputs, a.get(0)!.steps[2].inputs), 'build arg VERSION changed');
  });

  it('runs the base image ONBUILD triggers at FROM and clears them', async () => {
    const stages = await run('FROM trig\nRUN echo mine');
    const s = stages.get(0)!;
    assert.deepEqual(s.steps.map((x) => x.display), ['RUN echo triggered', 'RUN echo mine']);
    assert.ok(s.config.config.Env!.includes('FROM_TRIGGER=1'));
    assert.equal(s.config.config.OnBuild, null);
  });

  it('reports a missing COPY, ADD or RUN --mount source and an unknown image with the line', async () => {
    await assert.rejects(run('FROM busybox\n\nCOPY nope.txt /x'), /^BuildError: Dockerfile:3: COPY failed: file not found in build context: "nope.txt"$|Dockerfile:3: COPY failed: file not found in build context: "nope.txt"/);
    await assert.rejects(run('FROM nosuch'), /Dockerfile:1: nosuch: no such image: "nosuch"/);
    await assert.rejects(run('FROM busybox\nCOPY --parents ./src/./nope.txt /x/'), /Dockerfile:2: COPY failed: file not found in build context: "\.\/src\/\.\/nope\.txt"/);
    // Named by the instruction the user wrote.
    await assert.rejects(run('FROM busybox\nADD nope.tar /x/'), /Dockerfile:2: ADD failed: file not found in build context: "nope.tar"/);
    await assert.rejects(run('FROM busybox\nRUN --mount=type=bind,source=/etc,target=/x ls /x'), /Dockerfile:2: RUN --mount failed: file not found in build context: "\/etc"/);
  });

  it('scopes ARGs: globals re-declared in a stage, platform ARGs, proxies unseen in history', async () => {
    const text = [
      'ARG BASE=busybox',
      'ARG GLOBAL_ONLY=g',
      'FROM $BASE',
      'ARG BASE',
      'ARG TARGETARCH',
      'ARG LOCAL=l',
      'ENV LOCAL=from-env',
      'RUN echo $BASE $TARGETARCH $GLOBAL_ONLY',
    ].join('\n');
    const s = (await run(text, { buildArgs: { HTTP_PROXY: 'http://proxy:3128', LOCAL: 'cli' } })).get(0)!;
    const step = s.steps[0];
    assert.equal(step.action.type, 'run');
    if (step.action.type !== 'run') return;
    assert.ok(step.action.env.includes('BASE=busybox'), 'a re-declared global keeps its value');
    assert.ok(step.action.env.includes('TARGETARCH=amd64'));
    assert.ok(!step.action.env.some((e) => e.startsWith('GLOBAL_ONLY=')), 'globals need a re-declaration');
    assert.ok(step.action.env.includes('LOCAL=from-env') && !step.action.env.includes('LOCAL=cli'), 'ENV wins over ARG');
    assert.ok(step.action.env.includes('HTTP_PROXY=http://proxy:3128'), 'proxies need no ARG');
    assert.doesNotMatch(step.createdBy, /proxy/);
    assert.equal(step.createdBy, 'RUN |3 BASE=busybox TARGETARCH=amd64 LOCAL=from-env /bin/sh -c echo $BASE $TARGETARCH $GLOBAL_ONLY');
  });

  it('explains keys in text for --explain', async () => {
    const { explainText } = await import('./explain.js');
    const text = explainText([...(await run(DF)).values()]);
    assert.match(text, /^stage build: FROM busybox AS build$/m);
    assert.match(text, /^ {4}key [0-9a-f]{64}$/m);
    assert.match(text, /^ {6}src\/a\.txt [0-9a-f]{64} 644$/m);
  });

  it('keys ADD of a URL by its ETag when there is no --checksum', async () => {
    let etag = '"v1"';
    const server = http.createServer((_req, res) => res.writeHead(200, { etag }).end('x'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/f.txt`;
      const key = async () => (await run(`FROM busybox\nADD ${url} /f.txt`)).get(0)!.steps[0];
      const a = await key();
      assert.equal((await key()).key, a.key);
      etag = '"v2"';
      const b = await key();
      assert.notEqual(b.key, a.key);
      assert.equal(explainMiss(b.inputs, a.inputs), `url ${url} changed`);
    } finally {
      server.close();
    }
  });

  it('selects files with globs and applies --exclude', async () => {
    const stages = await run('FROM busybox\nCOPY --exclude=b.txt src/*.txt /d/');
    assert.deepEqual(Object.keys(stages.get(0)!.steps[0].inputs.files!).sort(), ['src/a.txt', 'src/b.txt', 'src/c.txt']);
    const ex = await run('FROM busybox\nCOPY --exclude=b.txt src/ /d/');
    assert.deepEqual(Object.keys(ex.get(0)!.steps[0].inputs.files!).sort(), ['src/a.txt', 'src/c.txt']);
  });
});
