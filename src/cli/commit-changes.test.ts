// `commit -c` and `import -c` through the real CLI and real containers: the changes are parsed
// by the Dockerfile parser and applied as a build applies them; refused ones leave no image.
// The `run` bundle must not carry the parser (start latency).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../testing/cli.js';
import { lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

describe('commit -c and import -c', { concurrency: false }, () => {
  let fx: LifecycleFixture;
  before(async () => (fx = await lifecycleFixture()));
  after(async () => fx.teardown());

  it('applies Dockerfile instructions to the committed image, and the new image runs with them', () => {
    assert.equal(fx.strata(['run', '--name', 'base', 'busybox', 'sh', '-c', 'mkdir -p /srv/app && echo hello > /srv/app/msg']).status, 0);
    const commit = fx.strata(['commit',
      '-c', 'ENV GREETING=hi', '-c', 'ENV NAME=${GREETING}-there', '-c', 'WORKDIR /srv', '-c', 'WORKDIR app',
      '-c', 'CMD cat msg; echo $NAME; pwd; id -u', '-c', 'USER 1000:1000', '-c', 'EXPOSE 8080 53/udp', '-c', 'LABEL version="1.0" "with space"=yes',
      '-c', 'STOPSIGNAL SIGINT', '-c', 'VOLUME ["/data"]', 'base', 'changed:1']);
    assert.equal(commit.status, 0, commit.stderr);
    const config = JSON.parse(fx.strata(['inspect', '--format', '{{json .Config}}', 'changed:1']).stdout) as Record<string, unknown>;
    assert.deepEqual(config.Cmd, ['/bin/sh', '-c', 'cat msg; echo $NAME; pwd; id -u']);
    assert.deepEqual((config.Env as string[]).slice(-2), ['GREETING=hi', 'NAME=hi-there']);
    assert.equal(config.WorkingDir, '/srv/app');
    assert.equal(config.User, '1000:1000');
    assert.deepEqual(config.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.deepEqual(config.Labels, { version: '1.0', 'with space': 'yes' });
    assert.equal(config.StopSignal, 'SIGINT');
    assert.deepEqual(config.Volumes, { '/data': {} });
    const run = fx.strata(['run', '--rm', 'changed:1']);
    assert.equal(run.stdout, 'hello\nhi-there\n/srv/app\n1000\n', run.stderr);
  });

  it('refuses an instruction Docker refuses there, in one line, creating no image', () => {
    const before = fx.strata(['images', '-q']).stdout;
    for (const [change, message] of [['RUN echo hi', 'run is not a valid change command'], ['COPY a b', 'copy is not a valid change command'], ['ENV', 'invalid change: ENV requires at least one argument']]) {
      const r = fx.strata(['commit', '-c', 'CMD ["true"]', '-c', change!, 'base', 'refused:1']);
      assert.equal(r.status, 125);
      assert.equal(r.stderr, `Error: ${message}\n`);
      assert.equal(r.stdout, '');
    }
    assert.equal(fx.strata(['images', '-q']).stdout, before);
  });

  it('applies changes to an imported tarball too', () => {
    const tarFile = path.join(fx.root, 'rootfs.tar');
    assert.equal(fx.strata(['export', '-o', tarFile, 'base']).status, 0);
    const imported = fx.strata(['import', '-c', 'ENTRYPOINT ["/bin/echo", "from"]', '-c', 'CMD ["import"]', '-c', 'ENV X=1', tarFile, 'imp:1']);
    assert.equal(imported.status, 0, imported.stderr);
    assert.equal(fx.strata(['run', '--rm', 'imp:1']).stdout, 'from import\n');
    assert.equal(fx.strata(['run', '--rm', 'imp:1', 'args']).stdout, 'from args\n');
    assert.deepEqual(JSON.parse(fx.strata(['inspect', '--format', '{{json .Config.Env}}', 'imp:1']).stdout), ['X=1']);
    const bad = fx.strata(['import', '-c', 'ADD x y', tarFile, 'imp:2']);
    assert.notEqual(bad.status, 0);
    assert.equal(bad.stderr, 'Error: add is not a valid change command\n');
  });

  it('keeps the parser out of the run bundle', { skip: !fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'run-bundle.cjs')) && 'not built' }, () => {
    const bundle = fs.readFileSync(path.join(repoRoot, 'dist', 'cli', 'run-bundle.cjs'), 'utf8');
    assert.ok(!bundle.includes('nearley'), 'the run bundle loads the Dockerfile grammar');
    assert.ok(!bundle.includes('not a valid change command'), 'the run bundle carries commit -c');
  });
});
