// End to end with real containers: `strata build` through the CLI against a private state
// root with busybox:latest, runc on overlayfs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../store/store.js';
import { ensureBusybox } from '../testing/busybox.js';
import { buildSteps as steps } from '../testing/build-steps.js';
import { runStrata, spawnStrata, tempDir, testdataDir } from '../testing/cli.js';

const fixtures = path.join(testdataDir, 'build');

describe('strata build (end to end)', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  const build = (args: string[], env?: NodeJS.ProcessEnv) => runStrata(['build', '--progress', 'plain', ...args], { root, env, timeoutMs: 180_000 });

  before(async () => {
    t = tempDir('strata-build-e2e-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
  });
  after(() => {
    // Nothing of a build may be left running or mounted.
    spawnSync('runc', ['--root', path.join(root, 'runc'), 'list', '-q'], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean)
      .forEach((id) => spawnSync('runc', ['--root', path.join(root, 'runc'), 'delete', '-f', id]));
    t.cleanup();
  });

  it('builds a multi-stage image that runs, then rebuilds it all from cache, then explains misses', () => {
    const ctx = path.join(t.dir, 'multi');
    fs.cpSync(path.join(fixtures, 'multi'), ctx, { recursive: true });
    const meta = path.join(t.dir, 'meta.json');
    const cold = build(['-t', 'multi:1', '--metadata-file', meta, ctx]);
    assert.equal(cold.status, 0, cold.stderr);
    assert.match(cold.stderr, /^\d+ steps, 0 cached, \d+ built in [0-9.]+s$/m);

    // The image's CMD, then /ctx/logs, in one container (the CMD itself runs as is in multi:2 below).
    const ran = runStrata(['run', '--rm', 'multi:1', 'sh', '-c', 'cat /app/version.txt /app/listing.txt; ls /ctx; echo ==; ls /ctx/logs'], { root });
    assert.equal(ran.status, 0, ran.stderr);
    const [cmdOut, listed] = ran.stdout.split('==\n');
    assert.match(cmdOut, /^version 1$/m);
    assert.match(cmdOut, /^a\.txt$/m);
    assert.match(cmdOut, /^c\.txt$/m);
    // .dockerignore: logs/ is ignored except logs/keep.log, *.secret too.
    assert.match(cmdOut, /^logs$/m);
    assert.doesNotMatch(cmdOut, /token\.secret/);
    assert.equal(listed.trim(), 'keep.log');

    const metadata = JSON.parse(fs.readFileSync(meta, 'utf8'));
    assert.match(metadata.imageId, /^sha256:[0-9a-f]{64}$/);
    assert.ok(metadata.steps.length >= 7);
    assert.ok(metadata.steps.every((s: { cacheKey: string; cached: boolean }) => /^[0-9a-f]{64}$/.test(s.cacheKey) && s.cached === false));

    const warm = build(['-t', 'multi:1', ctx]);
    assert.equal(warm.status, 0, warm.stderr);
    const warmSteps = steps(warm.stderr);
    assert.ok(warmSteps.length >= 7);
    assert.deepEqual(warmSteps.filter((s) => !s.cached), [], 'a second build is all CACHED');
    assert.match(warm.stderr, /, 0 built in /);
    assert.match(warm.stderr, new RegExp(`writing image ${metadata.imageId}`), 'same image again');

    fs.writeFileSync(path.join(ctx, 'src', 'b.txt'), 'changed\n');
    const inc = build(['-t', 'multi:1', ctx]);
    assert.equal(inc.status, 0, inc.stderr);
    const missed = steps(inc.stderr).filter((s) => !s.cached);
    assert.deepEqual(missed.map((s) => s.step), [
      '[files 2/3] COPY src/ /in/',
      '[files 3/3] RUN ls /in /in/sub > /out/listing.txt',
      '[stage-3 4/5] COPY --from=files /out/listing.txt ./',
      '[stage-3 5/5] COPY . /ctx/',
    ]);
    assert.equal(missed[0].reason, 'src/b.txt changed');
    assert.equal(missed[1].reason, 'parent step changed');
    assert.equal(missed[2].reason, 'stage files changed');
    assert.equal(missed[3].reason, 'parent step changed');

    const arg = build(['--build-arg', 'VERSION=2', '-t', 'multi:2', ctx]);
    assert.equal(arg.status, 0, arg.stderr);
    const argMissed = steps(arg.stderr).filter((s) => !s.cached);
    assert.equal(argMissed[0].step, '[words 2/2] RUN echo "version $VERSION" > /out/version.txt');
    assert.equal(argMissed[0].reason, 'build arg VERSION changed');
    const ran2 = runStrata(['run', '--rm', 'multi:2'], { root }).stdout;
    assert.match(ran2, /^version 2$/m);
    assert.match(ran2, /^a\.txt$/m);
    assert.match(ran2, /^logs$/m);
  });

  it('reports a failing RUN with its line, exit code and last output, and tags nothing', async () => {
    const r = build(['-t', 'broken', path.join(fixtures, 'fail')]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^Error: Dockerfile:3: RUN did not complete successfully: exit code: 3$/m);
    // The command is shown once, in its step's line; the snippet shows the source.
    assert.equal(r.stderr.split('echo first line && echo second line').length - 1, 2, r.stderr);
    assert.match(r.stderr, /^Dockerfile:3\n-{20}\n(.*\n)*\s+3 \| >>> RUN echo first line/m);
    assert.match(r.stderr, /first line/);
    assert.match(r.stderr, /second line/);
    // The next step never started (the snippet shows its line as context only).
    assert.doesNotMatch(r.stderr, /\[4\/4\]|^#\d+ [\d.]+ never$/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    await assert.rejects((await openStore(root)).findImage('broken'), /no such image/, 'nothing tagged');
    assert.deepEqual(fs.readdirSync(path.join(root, 'build', 'work')), [], 'no scratch dir left');
    const list = spawnSync('runc', ['--root', path.join(root, 'runc'), 'list', '-q'], { encoding: 'utf8' });
    assert.equal(list.stdout.trim(), '', 'no container left');
    // The step before the failure is cached; the failed one is not.
    const again = build([path.join(fixtures, 'fail')]);
    const s = steps(again.stderr);
    assert.equal(s[0].cached, true);
    assert.equal(s[1].cached, false);
  });

  it('names a missing COPY source with its line', () => {
    const r = build([path.join(fixtures, 'missing')]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').pop(), 'Error: Dockerfile:2: COPY failed: file not found in build context: "nope.txt"');
  });

  it('gives the same image digest for two clean builds with SOURCE_DATE_EPOCH', async () => {
    const ctx = path.join(fixtures, 'deterministic');
    const iid = path.join(t.dir, 'iid');
    const ids = [0, 1].map(() => {
      const r = runStrata(['build', '-q', '--no-cache', '--iidfile', iid, ctx], { root, env: { SOURCE_DATE_EPOCH: '1700000000' } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(iid, 'utf8'), r.stdout.trim(), '--iidfile holds what -q prints');
      return r.stdout.trim();
    });
    assert.match(ids[0], /^sha256:[0-9a-f]{64}$/);
    assert.equal(ids[1], ids[0]);
    // The image's creation time, read from its config here (no inspect process).
    assert.match((await (await openStore(root)).resolveImage(ids[0])).config.created ?? '', /^2023-11-14T22:13:20(\.000)?Z$/);
  });

  it('builds from a tar on stdin and a Dockerfile on stdin', () => {
    const tarball = spawnSync('tar', ['-C', path.join(fixtures, 'deterministic'), '-cf', '-', '.'], { maxBuffer: 1 << 24 }).stdout;
    const fromTar = runStrata(['build', '-q', '-'], { root, input: tarball });
    assert.equal(fromTar.status, 0, fromTar.stderr);
    const dfOnly = runStrata(['build', '-q', '-t', 'stdin-df', '-f', '-', path.join(fixtures, 'deterministic')], { root, input: Buffer.from('FROM busybox\nCOPY hello.txt /\nCMD ["cat", "/hello.txt"]\n') });
    assert.equal(dfOnly.status, 0, dfOnly.stderr);
    assert.equal(runStrata(['run', '--rm', 'stdin-df'], { root }).stdout, 'hello\n');
  });
  it('runs RUN in its forms with mounts, and writes every config field', () => {
    const secret = path.join(t.dir, 'token');
    fs.writeFileSync(secret, 's3cret\n');
    const ctx = path.join(fixtures, 'features');
    const r = build(['--secret', `id=token,src=${secret}`, '-t', 'features', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /RUN --mount=type=cache,target=\/var\/cache\/demo echo run/);
    assert.equal(runStrata(['run', '--rm', 'features'], { root }).stdout, 'heredoc by builder\nsecond line\n');
    const look = runStrata(['run', '--rm', '--entrypoint', 'sh', 'features', '-c',
      'cat exec.txt cache-count.txt secret-seen.txt tmpfs.txt net.txt bound.txt; stat -c "%u:%g %a" owned.txt; ls -d /run /var/cache /scratch 2>&1; id -u; echo ==; ls /mnt 2>&1 || true'], { root });
    const [files, mnt] = look.stdout.split('==\n');
    assert.equal(files.split('\n').filter((l) => !/No such file/.test(l)).join('\n'), 'exec-form\n1\ns3cret\nx\nlo\nowned\n65534:65534 600\n65534\n', 'mount points leave nothing behind');
    assert.equal(mnt.trim(), 'ls: /mnt: No such file or directory');
    const config = JSON.parse(runStrata(['inspect', 'features'], { root }).stdout)[0].Config;
    assert.equal(config.User, 'nobody');
    assert.equal(config.WorkingDir, '/srv/app');
    assert.deepEqual(config.Entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(config.Cmd, ['cat heredoc.txt']);
    assert.deepEqual(config.Shell, ['/bin/sh', '-ec']);
    assert.deepEqual(config.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.deepEqual(config.Volumes, { '/data': {} });
    assert.deepEqual(config.Labels, { 'org.example.who': 'builder' });
    assert.equal(config.StopSignal, 'SIGQUIT');
    assert.deepEqual(config.Healthcheck, { Test: ['CMD', 'true'], Interval: 5e9, Retries: 2 });
    assert.ok(config.Env.includes('APP_HOME=/srv/app'));
    // The cache mount outlives the build: a --no-cache rebuild sees the first run's file.
    const again = build(['--no-cache', '--secret', `id=token,src=${secret}`, '-t', 'features', ctx]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(runStrata(['run', '--rm', '--entrypoint', 'cat', 'features', 'cache-count.txt'], { root }).stdout, /^2$/m);
  });

  it('cancels cleanly on SIGINT: exit 130, no container, no scratch dir', async () => {
    const child = spawnStrata(['build', '--progress', 'plain', '-t', 'slow', path.join(fixtures, 'slow')], { root });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && /started/.test(stderr)) sent = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 130, stderr);
    assert.match(stderr, /Error: build cancelled/);
    assert.equal(spawnSync('runc', ['--root', path.join(root, 'runc'), 'list', '-q'], { encoding: 'utf8' }).stdout.trim(), '');
    assert.deepEqual(fs.readdirSync(path.join(root, 'build', 'work')), []);
    await assert.rejects((await openStore(root)).findImage('slow'), /no such image/, 'nothing tagged');
  });

  it('reads NAME.dockerignore beside -f NAME instead of .dockerignore', () => {
    const ctx = path.join(fixtures, 'ignorefile');
    const r = build(['-f', path.join(ctx, 'app.Dockerfile'), '-t', 'ignorefile', ctx]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(runStrata(['run', '--rm', 'ignorefile'], { root }).stdout.trim().split('\n').sort(),
      ['app.Dockerfile', 'app.Dockerfile.dockerignore', 'kept.txt', 'other.txt'], 'secret.txt ignored, other.txt not (ls hides dotfiles)');
  });

  it('binds from a stage and from the context; a bound file is part of the key', () => {
    const ctx = path.join(t.dir, 'bindfrom');
    fs.cpSync(path.join(fixtures, 'bindfrom'), ctx, { recursive: true });
    const first = build(['-t', 'bindfrom', ctx]);
    assert.equal(first.status, 0, first.stderr);
    // The image's CMD, then ls /mnt, in one container (the CMD itself runs as is after the rebuild).
    const ran = runStrata(['run', '--rm', 'bindfrom', 'sh', '-c', 'cat /seen.txt /data-seen.txt; ls /mnt'], { root });
    assert.equal(ran.stdout, 'tool v1\ndata v1\n');
    assert.equal(ran.status, 1, 'no mount point left in the image');
    fs.writeFileSync(path.join(ctx, 'data.txt'), 'data v2\n');
    const second = build(['-t', 'bindfrom', ctx]);
    const missed = steps(second.stderr).filter((s) => !s.cached);
    assert.equal(missed.length, 1, second.stderr);
    assert.equal(missed[0].reason, 'data.txt changed');
    assert.equal(runStrata(['run', '--rm', 'bindfrom'], { root }).stdout, 'tool v1\ndata v2\n');
  });

  it('lists, measures and prunes the cache', () => {
    const ls = runStrata(['cache', 'ls'], { root });
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /^CACHE KEY\s+STAGE\s+STEP\s+SIZE\s+CREATED\s+LAST USED\s+HITS$/m);
    assert.match(ls.stdout, /COPY src\/ \/in\//);
    assert.match(runStrata(['cache', 'du'], { root }).stdout, /^ENTRIES\s+LAYERS\s+SIZE\n\d+\s+\d+\s+\S+/);
    const pruned = runStrata(['cache', 'prune', '--all'], { root });
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.match(pruned.stdout, /^Deleted: [0-9a-f]{64}$/m);
    assert.match(pruned.stdout, /^Total reclaimed space: /m);
    assert.equal(runStrata(['cache', 'ls'], { root }).stdout.trim().split('\n').length, 1, 'only the heading is left');
    // Images keep their layers: a tagged image still runs after the prune.
    assert.equal(runStrata(['run', '--rm', 'stdin-df'], { root }).stdout, 'hello\n');
  });

});
