// Build flags and behaviours of issue 14, end to end with the real CLI (runc, overlayfs):
// --progress=rawjson, --secret env=/mode=, COPY --chmod symbolic, COPY --link reuse, error
// snippets with a caret, progress labels with ARGs expanded and flags shown, a failed RUN
// naming its command once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildSandbox, type BuildSandbox } from '../testing/build-sandbox.js';
import { runStrata } from '../testing/cli.js';

describe('build flags (issue 14)', () => {
  let sb: BuildSandbox;
  let root: string;
  let ctx: BuildSandbox['ctx'];
  let build: BuildSandbox['build'];

  before(async () => {
    sb = await buildSandbox('strata-build-flags-');
    ({ root, ctx, build } = sb);
  });
  after(() => sb?.cleanup());
  const runIn = (image: string, cmd: string) => runStrata(['run', '--rm', image, 'sh', '-c', cmd], { root });

  it('--progress=rawjson prints BuildKit SolveStatus lines: vertexes, base64 logs', () => {
    const dir = ctx('FROM busybox\nRUN echo rawjson-out\n');
    const r = build(['--progress=rawjson', '--no-cache', dir]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { vertexes?: { digest: string; name: string; started?: string; completed?: string; cached?: boolean }[]; logs?: { vertex: string; data: string; stream: number }[] });
    const run = lines.flatMap((l) => l.vertexes ?? []).filter((v) => v.name === '[2/2] RUN echo rawjson-out');
    assert.equal(run.length, 2, 'started, then completed');
    assert.ok(run[0].started && !run[0].completed && run[1].completed);
    assert.match(run[0].digest, /^sha256:[0-9a-f]{64}$/);
    const logs = lines.flatMap((l) => l.logs ?? []).filter((g) => g.vertex === run[0].digest);
    assert.equal(Buffer.concat(logs.map((g) => Buffer.from(g.data, 'base64'))).toString(), 'rawjson-out\n');
    assert.ok(lines.flatMap((l) => l.vertexes ?? []).some((v) => v.name === '[1/2] FROM busybox' && v.cached));
  });

  it('--secret: a file (0400 by default, mode/uid/gid), an env secret as a file and as RUN env, a bare id from the environment', () => {
    const file = path.join(sb.dir, 'secret.txt');
    fs.writeFileSync(file, 'from-file');
    fs.chmodSync(file, 0o644);
    const dir = ctx([
      'FROM busybox',
      'RUN --mount=type=secret,id=f stat -c "%a %u:%g" /run/secrets/f > /f-mode && cat /run/secrets/f > /f-body',
      'RUN --mount=type=secret,id=tok,env=TOKEN echo "$TOKEN" > /tok-env && (ls /run/secrets 2>/dev/null || echo none) > /tok-files',
      'RUN --mount=type=secret,id=tok,target=/t,mode=0440,uid=1,gid=2 stat -c "%a %u:%g" /t > /t-mode && cat /t > /t-body',
      'RUN --mount=type=secret,id=BARE cat /run/secrets/BARE > /bare',
      '',
    ].join('\n'));
    const r = build(['-t', 'secrets', '--secret', `id=f,src=${file}`, '--secret', 'id=tok,env=SECRET_TOKEN', '--secret', 'id=BARE', dir], { SECRET_TOKEN: 's3cr3t', BARE: 'bare-value' });
    assert.equal(r.status, 0, r.stderr);
    const out = runIn('secrets', 'cat /f-mode /f-body; echo; cat /tok-env /tok-files /t-mode /t-body; echo; cat /bare');
    assert.equal(out.stdout, '400 0:0\nfrom-file\ns3cr3t\nnone\n440 1:2\ns3cr3t\nbare-value');
    // The image holds none of it, and the host file was never bound (its mode is untouched).
    assert.equal(runIn('secrets', 'ls /run/secrets /t 2>&1 | wc -l').stdout.trim(), '2');
    assert.equal(fs.statSync(file).mode & 0o777, 0o644);
    const missing = build(['--secret', 'id=x,env=NOT_SET_ANYWHERE', dir]);
    assert.equal(missing.status, 125);
    assert.match(missing.stderr, /^Error: secret "x": environment variable NOT_SET_ANYWHERE is not set$/m);
    const nofile = build(['--secret', `id=f,src=${path.join(sb.dir, 'nope')}`, dir]);
    assert.equal(nofile.status, 125);
    assert.match(nofile.stderr, /^Error: secret "f": open .*nope: no such file or directory$/m);
  });

  it('COPY --chmod takes symbolic modes (u=rwx,g=rx,o=; a+X) and refuses a bad one with a caret under it', () => {
    const dir = ctx('FROM busybox\nCOPY --chmod=u=rwx,g=rx,o= f /sym/f\nCOPY --chmod=a+X,go-w d/ /symd/\nCOPY --chmod=0640 f /oct/f\n', { f: 'f\n' });
    fs.mkdirSync(path.join(dir, 'd'));
    fs.writeFileSync(path.join(dir, 'd', 'g'), 'g');
    fs.chmodSync(path.join(dir, 'd', 'g'), 0o700);
    fs.mkdirSync(path.join(dir, 'd', 'sub'));
    fs.chmodSync(path.join(dir, 'd', 'sub'), 0o700);
    fs.chmodSync(path.join(dir, 'f'), 0o644);
    const r = build(['-t', 'chmod', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(runIn('chmod', 'stat -c "%a %n" /sym/f /symd/g /symd/sub /oct/f').stdout, '750 /sym/f\n711 /symd/g\n711 /symd/sub\n640 /oct/f\n');
    const bad = build([ctx('FROM busybox\nCOPY --chmod=u=rwz f /x\n', { f: '' })]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^Dockerfile:2\n-{20}\n\s+1 \|     FROM busybox\n\s+2 \| >>> COPY --chmod=u=rwz f \/x\n\s+\|\s{18}\^\n-{20}\nError: Dockerfile:2: invalid chmod parameter: "u=rwz"\n$/);
  });

  it('COPY --link is reused when an earlier step changed (BuildKit), and the rest rebuilds on it', () => {
    const dir = ctx('FROM busybox\nARG V=1\nRUN echo $V > /v\nCOPY --link --chown=daemon f /etc/f\nRUN cat /v /etc/f && stat -c "%U" /etc/f /etc\n', { f: 'linked\n' });
    const first = build(['--progress=plain', '--build-arg', 'V=1', '-t', 'link:1', dir]);
    assert.equal(first.status, 0, first.stderr);
    const second = build(['--progress=plain', '--build-arg', 'V=2', '-t', 'link:2', dir]);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /#3 \[3\/4\] COPY --chown=daemon --link f \/etc\/f\n#3 CACHED/);
    assert.match(second.stderr, /#4 [\d.]+ 2\n#4 [\d.]+ linked\n#4 [\d.]+ daemon\n#4 [\d.]+ root\n/);
    // Without --link the same change rebuilds the COPY.
    const plain = ctx('FROM busybox\nARG V=1\nRUN echo $V > /v\nCOPY f /etc/f\n', { f: 'x\n' });
    assert.equal(build(['--build-arg', 'V=1', plain]).status, 0);
    assert.doesNotMatch(build(['--progress=plain', '--build-arg', 'V=2', plain]).stderr, /#3 CACHED/);
  });

  it('labels FROM with its ARGs expanded and COPY/ADD with --exclude and --checksum', () => {
    const dir = ctx('ARG BASE=busybox\nFROM ${BASE} AS b1\nARG X=log\nCOPY --exclude=*.${X} . /ctx/\nRUN ls /ctx\n', { 'a.txt': 'a', 'b.log': 'b' });
    const r = build(['--progress=plain', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^#1 \[b1 1\/3\] FROM busybox AS b1$/m);
    assert.match(r.stderr, /^#2 \[b1 2\/3\] COPY --exclude=\*\.log \. \/ctx\/$/m);
    assert.doesNotMatch(r.stderr, /b\.log/);
    const sum = build([ctx(`FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} a.txt /a\n`, { 'a.txt': 'a' })]);
    assert.equal(sum.status, 1);
    assert.match(sum.stderr, /Error: Dockerfile:2: checksum can't be specified for non-HTTP\(S\) sources$/m);
  });

  it('a failed RUN names its command once, with the source lines marked', () => {
    const dir = ctx('FROM busybox\nRUN echo started-here && \\\n  exit 4\n');
    const r = build(['--progress=plain', dir]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.split('echo started-here &&   exit 4').length - 1, 1, r.stderr);
    assert.match(r.stderr, /^#2 ERROR: RUN did not complete successfully: exit code: 4$/m);
    assert.match(r.stderr, /^Dockerfile:2-3\n-{20}\n\s+1 \|     FROM busybox\n\s+2 \| >>> RUN echo started-here && \\\n\s+3 \| >>>   exit 4\n-{20}\nError: Dockerfile:2: RUN did not complete successfully: exit code: 4\n$/m);
    // A parse error keeps its column in the message, as `strata parse` shows it.
    const parse = build([ctx('FROM busybox\nRUNN x\n')]);
    assert.match(parse.stderr, /\s+2 \| >>> RUNN x\n\s+\|     \^\n-{20}\nError: Dockerfile:2:1: unknown instruction "RUNN"/);
  });
});
