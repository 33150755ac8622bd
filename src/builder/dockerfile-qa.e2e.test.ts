// Dockerfile behaviours found different from BuildKit's in exploratory QA, end to end with the
// real CLI (runc, overlayfs): each case is what `docker build` (BuildKit) does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../store/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir } from '../testing/cli.js';

describe('Dockerfile conformance (exploratory QA)', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let n = 0;

  before(async () => {
    t = tempDir('strata-dockerfile-qa-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
  });
  after(() => t.cleanup());

  function ctx(dockerfile: string, files: Record<string, string> = {}): string {
    const dir = path.join(t.dir, `ctx-${++n}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
    for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), body);
    return dir;
  }
  const build = (args: string[]) => runStrata(['build', ...args], { root, timeoutMs: 120_000 });

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
    // busybox has no Entrypoint, Labels, OnBuild, StopSignal, ExposedPorts, Healthcheck, Shell.
    assert.equal(f('busybox', '{{.Config.Entrypoint}}|{{.Config.Labels}}|{{.Config.OnBuild}}|{{.Config.StopSignal}}|{{.Config.ExposedPorts}}|{{.Config.Healthcheck}}|{{.Config.Shell}}'),
      '[]|map[]|[]||map[]|<nil>|[]\n');
    assert.equal(f('busybox', '{{json .Config.Entrypoint}} {{json .Config.ExposedPorts}} {{len .Config.Labels}} {{if .Config.Labels}}y{{else}}n{{end}}'), 'null null 0 n\n');
    // The JSON of the whole Config is unchanged: omitempty fields stay out.
    const config = JSON.parse(f('busybox', '{{json .Config}}')) as Record<string, unknown>;
    assert.equal(config.Entrypoint, null);
    assert.equal('StopSignal' in config || 'ExposedPorts' in config || 'Healthcheck' in config, false);
    assert.equal(f('qa-inspect', '{{.Config.ExposedPorts}} {{.Config.Volumes}} {{json .Config.ExposedPorts}}'), 'map[53/udp:{} 80/tcp:{}] map[/data:{}] {"53/udp":{},"80/tcp":{}}\n');
  });
});
