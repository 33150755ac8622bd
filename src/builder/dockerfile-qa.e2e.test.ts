// Dockerfile behaviours found different from BuildKit's in exploratory QA, end to end with the
// real CLI (runc, overlayfs): each case is what `docker build` (BuildKit) does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { buildSandbox, type BuildSandbox } from '../testing/build-sandbox.js';
import { runStrata } from '../testing/cli.js';

describe('Dockerfile conformance (exploratory QA)', () => {
  let sb: BuildSandbox;
  let root: string;
  let ctx: BuildSandbox['ctx'];
  let build: BuildSandbox['build'];

  before(async () => {
    sb = await buildSandbox('strata-dockerfile-qa-');
    ({ root, ctx, build } = sb);
  });
  after(() => sb?.cleanup());

  it('runs a lone RUN heredoc that starts with "#!" with its interpreter, from /dev/pipes/NAME', () => {
    const dir = ctx([
      'FROM busybox',
      'RUN <<EOT',
      '#!/usr/bin/awk -f',
      'BEGIN { print "awk-ran" > "/awk.txt" }',
      'EOT',
      'RUN <<-EOT',
      '\t#!/usr/bin/env sh',
      '\techo "$0" > /script.txt',
      'EOT',
      'RUN <<EOT',
      'echo "$0" > /plain.txt',
      'EOT',
      '',
    ].join('\n'));
    const r = build(['-q', '-t', 'qa-shebang', dir]);
    assert.equal(r.status, 0, r.stderr);
    const out = runStrata(['run', '--rm', 'qa-shebang', 'sh', '-c', 'cat /awk.txt /script.txt /plain.txt; ls /dev/pipes 2>&1 || true'], { root });
    assert.equal(out.status, 0, out.stderr);
    // The file is mounted for the step only; a heredoc without "#!" still runs as `sh -c BODY`.
    assert.deepEqual(out.stdout.trim().split('\n'), ['awk-ran', '/dev/pipes/EOT', '/bin/sh', 'ls: /dev/pipes: No such file or directory']);
    const hist = runStrata(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'qa-shebang'], { root });
    assert.equal(hist.stdout.split('\n').filter((l) => l === 'RUN /bin/sh -c /dev/pipes/EOT # buildkit').length, 2, hist.stdout);
  });

  it('a changed shebang script body is a cache miss', () => {
    const df = (word: string) => `FROM busybox\nRUN <<EOT\n#!/bin/sh\necho ${word} > /w\nEOT\n`;
    assert.equal(build(['-q', '-t', 'qa-shebang-a', ctx(df('one'))]).status, 0);
    const r = build(['-q', '-t', 'qa-shebang-b', ctx(df('two'))]);
    assert.equal(r.status, 0, r.stderr);
    const out = runStrata(['run', '--rm', 'qa-shebang-b', 'cat', '/w'], { root });
    assert.equal(out.stdout, 'two\n');
  });

  it('inspect -f sees Config as Docker\'s Go struct: nil slices and maps, omitted fields, struct{} values', () => {
    const dir = ctx('FROM busybox\nEXPOSE 80 53/udp\nVOLUME /data\n');
    assert.equal(build(['-q', '-t', 'qa-inspect', dir]).status, 0);
    const f = (image: string, format: string) => {
      const r = runStrata(['inspect', '-f', format, image], { root });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    // Three formats in one call, one line each.
    const [plain, json, whole] = f('busybox', [
      '{{.Config.Entrypoint}}|{{.Config.Labels}}|{{.Config.OnBuild}}|{{.Config.StopSignal}}|{{.Config.ExposedPorts}}|{{.Config.Healthcheck}}|{{.Config.Shell}}',
      '{{json .Config.Entrypoint}} {{json .Config.ExposedPorts}} {{len .Config.Labels}} {{if .Config.Labels}}y{{else}}n{{end}}',
      '{{json .Config}}',
    ].join('\n')).split('\n');
    // busybox has no Entrypoint, Labels, OnBuild, StopSignal, ExposedPorts, Healthcheck, Shell.
    assert.equal(plain, '[]|map[]|[]||map[]|<nil>|[]');
    assert.equal(json, 'null null 0 n');
    // The JSON of the whole Config is unchanged: omitempty fields stay out.
    const config = JSON.parse(whole) as Record<string, unknown>;
    assert.equal(config.Entrypoint, null);
    assert.equal('StopSignal' in config || 'ExposedPorts' in config || 'Healthcheck' in config, false);
    assert.equal(f('qa-inspect', '{{.Config.ExposedPorts}} {{.Config.Volumes}} {{json .Config.ExposedPorts}}'), 'map[53/udp:{} 80/tcp:{}] map[/data:{}] {"53/udp":{},"80/tcp":{}}\n');
  });

  it('a COPY heredoc makes one file in the destination: a delimiter that climbs is cleaned as in a root, a path is refused', () => {
    // The file a climbing delimiter would have made on the host, were its name joined as a path.
    const outside = fs.mkdtempSync(path.join(root, 'outside-'));
    const climb = `${'../'.repeat(12)}${outside.slice(1)}/pwned`;
    const bad = build(['-q', ctx(`FROM busybox\nCOPY <<${climb} /dest/\nhello\n${climb}\n`)]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, new RegExp(`^Error: Dockerfile:2: COPY heredoc "${climb.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" is not a file name$`, 'm'));
    assert.deepEqual(fs.readdirSync(outside), []);
    assert.equal(build(['-q', '-t', 'qa-heredoc-name', ctx('FROM busybox\nCOPY <<../x <<y /dest/\nhello\n../x\nyy\ny\n')]).status, 0);
    assert.equal(runStrata(['run', '--rm', 'qa-heredoc-name', 'sh', '-c', 'ls /dest; cat /dest/x /dest/y'], { root }).stdout, 'x\ny\nhello\nyy\n');
  });

  it('STOPSIGNAL takes what Docker\'s ParseSignal does (real-time signals too) and refuses the rest', () => {
    const bad = build(['-q', ctx('FROM busybox\nSTOPSIGNAL SIGFOO\n')]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^Error: Dockerfile:2: Invalid signal: SIGFOO$/m);
    assert.match(build(['-q', ctx('FROM busybox\nSTOPSIGNAL 0\n')]).stderr, /Invalid signal: 0$/m);
    // systemd images stop on SIGRTMIN+3: `stop` sends it (runc takes it as a number, 37).
    const dir = ctx('FROM busybox\nSTOPSIGNAL SIGRTMIN+3\nCMD ["sh", "-c", "trap \\"echo got-37; exit 0\\" 37; echo up; while true; do sleep 0.1; done"]\n');
    assert.equal(build(['-q', '-t', 'qa-rtmin', dir]).status, 0);
    const started = runStrata(['run', '-d', '--name', 'qa-rtmin', 'qa-rtmin'], { root });
    assert.equal(started.status, 0, started.stderr);
    const id = started.stdout.trim();
    // The trap is set once "up" is in the container's log (read as a file, not with a `logs` call per poll).
    const log = path.join(root, 'containers', id, `${id}-json.log`);
    try {
      const up = () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('"up\\n"');
      for (let i = 0; i < 100 && !up(); i++) spawnSyncSleep(50);
      assert.ok(up(), `"up" in ${log}`);
      const stop = runStrata(['stop', '-t', '20', 'qa-rtmin'], { root });
      assert.equal(stop.status, 0, stop.stderr);
      assert.equal(runStrata(['logs', 'qa-rtmin'], { root }).stdout, 'up\ngot-37\n');
      assert.equal(runStrata(['inspect', '-f', '{{.State.ExitCode}}', 'qa-rtmin'], { root }).stdout, '0\n');
    } finally {
      runStrata(['rm', '-f', 'qa-rtmin'], { root });
    }
  });

  it('EXPOSE parses [ip:][hostPort:]port[-end][/proto] as BuildKit and refuses what it refuses', () => {
    const ok = build(['-q', '-t', 'qa-expose', ctx('FROM busybox\nEXPOSE 80/SCTP 127.0.0.1:8080:81 [::1]:90:90/udp 7000-7001 82/\n')]);
    assert.equal(ok.status, 0, ok.stderr);
    const ports = runStrata(['inspect', '-f', '{{json .Config.ExposedPorts}}', 'qa-expose'], { root }).stdout;
    assert.equal(ports, '{"7000/tcp":{},"7001/tcp":{},"80/sctp":{},"81/tcp":{},"82/tcp":{},"90/udp":{}}\n');
    for (const [word, message] of [['70000', 'invalid containerPort: 70000'], ['80/foo', 'invalid proto: foo'], ['9000-8000', 'invalid containerPort: 9000-8000'],
      ['1.2.3:80:80', 'invalid IP address: 1.2.3'], ['8080:80-81', 'invalid ranges specified for container and host Ports: 80-81 and 8080']]) {
      const r = build(['-q', ctx(`FROM busybox\nEXPOSE ${word}\n`)]);
      assert.equal(r.status, 1, word);
      assert.match(r.stderr, new RegExp(`^Error: Dockerfile:2: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), word);
    }
  });

  it('ADD unpacks what holds a tar (zstd too) and copies a compressed file that holds none', () => {
    const dir = ctx('FROM busybox\nADD data.json.gz /g/\nADD tree.tar.zst /z/\nADD tree.tar.gz /t\n', { 'data.json': '{"a":1}\n' });
    fs.mkdirSync(path.join(dir, 'tree'));
    fs.writeFileSync(path.join(dir, 'tree', 'inside.txt'), 'inside\n');
    fs.writeFileSync(path.join(dir, 'data.json.gz'), gzipSync(fs.readFileSync(path.join(dir, 'data.json'))));
    assert.equal(spawnSync('tar', ['-cf', 'tree.tar', 'tree'], { cwd: dir }).status, 0);
    fs.writeFileSync(path.join(dir, 'tree.tar.gz'), gzipSync(fs.readFileSync(path.join(dir, 'tree.tar'))));
    assert.equal(spawnSync('zstd', ['-q', 'tree.tar', '-o', 'tree.tar.zst'], { cwd: dir }).status, 0);
    const r = build(['-q', '-t', 'qa-add-archives', dir]);
    assert.equal(r.status, 0, r.stderr);
    const out = runStrata(['run', '--rm', 'qa-add-archives', 'sh', '-c', 'zcat /g/data.json.gz; cat /z/tree/inside.txt /t/tree/inside.txt'], { root });
    assert.equal(out.stdout, '{"a":1}\ninside\ninside\n', out.stderr);
  });

  it('history rows read as BuildKit writes them: COPY names --parents/--chown/--chmod only, WORKDIR has no "# buildkit"', () => {
    const dir = ctx([
      'FROM busybox AS src',
      'RUN echo s > /s',
      'FROM busybox',
      'WORKDIR /app',
      'COPY --from=src --chown=1:2 /s /s1',
      'COPY --link --chmod=600 --exclude=*.log a.txt <<EOF ./',
      'inline',
      'EOF',
      '',
    ].join('\n'), { 'a.txt': 'a\n' });
    assert.equal(build(['-q', '-t', 'qa-history', dir]).status, 0);
    const h = runStrata(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'qa-history'], { root });
    assert.deepEqual(h.stdout.split('\n').slice(0, 3), ['COPY --chmod=600 a.txt <<EOF ./ # buildkit', 'COPY --chown=1:2 /s /s1 # buildkit', 'WORKDIR /app']);
  });

  it('RUN --mount=type=tmpfs is BuildKit\'s: programs run from it (nosuid only), size= limits it', () => {
    const dir = ctx('FROM busybox\nRUN --mount=type=tmpfs,target=/tmp,size=2m cp /bin/busybox /tmp/echo && /tmp/echo exec-ok > /ok && grep " /tmp " /proc/mounts > /mounts\n');
    const r = build(['-q', '-t', 'qa-tmpfs', dir]);
    assert.equal(r.status, 0, r.stderr);
    const out = runStrata(['run', '--rm', 'qa-tmpfs', 'cat', '/ok', '/mounts'], { root });
    assert.match(out.stdout, /^exec-ok\ntmpfs \/tmp tmpfs rw,nosuid,relatime,size=2048k /);
    const bad = build(['-q', ctx('FROM busybox\nRUN --mount=type=tmpfs,target=/t,size=lots true\n')]);
    assert.match(bad.stderr, /^Error: Dockerfile:2: invalid size: 'lots'$/m);
  });

  it('COPY of a URL is refused with BuildKit\'s message (only ADD fetches)', () => {
    const r = build(['-q', ctx('FROM busybox\nCOPY http://127.0.0.1:9/file /file\n')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Error: Dockerfile:2: source can't be a URL for COPY$/m);
  });

  it('build --label KEY sets an empty label (buildx), --iidfile into a missing directory is one clear line', () => {
    const dir = ctx('FROM busybox\n');
    const r = build(['-q', '--label', 'flag', '--label', 'k=v=w', dir]);
    assert.equal(r.status, 0, r.stderr);
    const labels = runStrata(['inspect', '-f', '{{json .Config.Labels}}', r.stdout.trim()], { root }).stdout;
    assert.equal(labels, '{"flag":"","k":"v=w"}\n');
    const missing = path.join(sb.dir, 'no-such-dir', 'iid');
    const bad = build(['-q', '--iidfile', missing, dir]);
    assert.equal(bad.status, 125);
    assert.equal(bad.stderr, `Error: writing image ID file "${missing}": no such file or directory\n`);
  });

  it('RUN --mount=type=bind,rw writes to a copy: the build context on the host is never changed', () => {
    const dir = ctx([
      'FROM busybox',
      'RUN --mount=type=bind,source=src,target=/src,rw echo changed > /src/file.txt && touch /src/new && rm /src/gone.txt && cat /src/file.txt',
      'RUN --mount=type=bind,target=/ctx,rw rm -rf /ctx/src && echo ok > /ok',
      '',
    ].join('\n'));
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'file.txt'), 'original\n');
    fs.writeFileSync(path.join(dir, 'src', 'gone.txt'), 'kept\n');
    const r = build(['--progress=plain', '-t', 'qa-bind-rw', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^#\d+ [\d.]+ changed$/m);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'src')).sort(), ['file.txt', 'gone.txt']);
    assert.equal(fs.readFileSync(path.join(dir, 'src', 'file.txt'), 'utf8'), 'original\n');
  });

  it('RUN --mount=type=bind from the context shows the context as .dockerignore leaves it', () => {
    const dir = ctx('FROM busybox\nRUN --mount=type=bind,target=/src ls -A /src > /all && ls -A /src/sub > /sub\nRUN --mount=type=bind,source=kept,target=/k ls -A /k > /kept\n', {
      '.dockerignore': 'secret.env\nsub/*.log\n', 'secret.env': 'TOKEN=1\n', 'app.txt': 'app\n',
    });
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'a.log'), 'log\n');
    fs.writeFileSync(path.join(dir, 'sub', 'b.txt'), 'b\n');
    fs.mkdirSync(path.join(dir, 'kept'));
    fs.writeFileSync(path.join(dir, 'kept', 'k.txt'), 'k\n');
    const r = build(['-q', '-t', 'qa-bind-ignored', dir]);
    assert.equal(r.status, 0, r.stderr);
    const out = runStrata(['run', '--rm', 'qa-bind-ignored', 'sh', '-c', 'cat /all /sub /kept | tr "\\n" " "'], { root });
    assert.equal(out.stdout, '.dockerignore Dockerfile app.txt kept sub b.txt k.txt ');
  });

  it('a lone RUN heredoc is labelled with its first line, as BuildKit shows it', () => {
    const r = build(['--progress=plain', ctx('FROM busybox\nRUN <<EOF\necho one\necho two\nEOF\nRUN <<EOF\necho single\nEOF\n')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^#\d+ \[2\/3\] RUN <<EOF \(echo one\.\.\.\)$/m);
    assert.match(r.stderr, /^#\d+ \[3\/3\] RUN <<EOF \(echo single\)$/m);
  });
});

function spawnSyncSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}