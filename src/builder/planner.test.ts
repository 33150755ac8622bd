import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plan } from './planner.js';
import { parseForTest } from './testing/parse.js';
import { BuildError } from './errors.js';

const platform = { os: 'linux', architecture: 'amd64' };
const planOf = (text: string, opts: { target?: string; buildArgs?: Record<string, string> } = {}) =>
  plan(parseForTest(text), { platform, ...opts });

describe('planner', () => {
  it('builds a DAG of named stages and orders dependencies first', () => {
    const p = planOf([
      'FROM busybox AS base',
      'RUN mkdir /out',
      'FROM base AS a',
      'RUN touch /out/a',
      'FROM base AS b',
      'RUN touch /out/b',
      'FROM busybox',
      'COPY --from=a /out/a /',
      'COPY --from=b /out/b /',
    ].join('\n'));
    assert.deepEqual(p.stages.map((s) => s.deps), [[], [0], [0], [1, 2]]);
    assert.deepEqual(p.order, [0, 1, 2, 3]);
    assert.equal(p.target, 3);
    assert.deepEqual(p.stages[1].base, { kind: 'stage', index: 0 });
    assert.deepEqual(p.stages[0].base, { kind: 'image', ref: 'busybox' });
  });

  it('prunes stages the target does not need', () => {
    const p = planOf('FROM busybox AS unused\nRUN false\nFROM busybox AS dep\nRUN true\nFROM busybox AS final\nCOPY --from=1 /x /x\nFROM busybox AS other', { target: 'final' });
    assert.deepEqual(p.order, [1, 2]);
  });

  it('refuses an unknown target and names it', () => {
    assert.throws(() => planOf('FROM busybox AS a', { target: 'nope' }), /target stage "nope" could not be found/);
  });

  it('detects cycles between stages with the line', () => {
    const text = 'FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y';
    assert.throws(() => planOf(text), (err: unknown) => {
      assert.ok(err instanceof BuildError);
      assert.match(err.message, /^Dockerfile:\d+: circular dependency between stages: "(a|b)" -> "(a|b)" -> "(a|b)"$/);
      return true;
    });
  });

  it('points a cycle at the instruction that closes it', () => {
    const cases: [string, string][] = [
      // a reads b (line 3) which is built FROM a: the forward COPY --from closes the cycle.
      ['FROM busybox AS a\nRUN true\nCOPY --from=b /x /x\nFROM a AS b\nRUN true', 'Dockerfile:3: circular dependency between stages: "b" -> "a" -> "b"'],
      // A stage reading itself.
      ['FROM busybox AS a\nRUN true\nCOPY --from=a /x /y', 'Dockerfile:3: circular dependency between stages: "a" -> "a"'],
      // Through a RUN --mount from=, three stages round.
      ['FROM busybox AS a\nRUN --mount=from=c,target=/c true\nFROM a AS b\nFROM busybox AS c\nCOPY --from=b /x /x', 'Dockerfile:2: circular dependency between stages: "c" -> "b" -> "a" -> "c"'],
    ];
    for (const [text, message] of cases) {
      assert.throws(() => planOf(text), (err: unknown) => err instanceof BuildError && err.message === message, message);
    }
  });

  it('treats an unknown --from name as an image', () => {
    const p = planOf('FROM busybox\nCOPY --from=alpine:3 /etc/os-release /');
    assert.deepEqual(p.stages[0].deps, []);
  });

  it('expands global ARGs in FROM, with --build-arg overriding defaults', () => {
    const text = 'ARG BASE=busybox\nARG TAG\nFROM ${BASE}:${TAG:-latest}\nFROM $BASE AS two';
    assert.deepEqual(planOf(text).stages[0].base, { kind: 'image', ref: 'busybox:latest' });
    assert.deepEqual(planOf(text, { buildArgs: { BASE: 'alpine', TAG: '3' } }).stages[0].base, { kind: 'image', ref: 'alpine:3' });
  });

  it('knows the platform ARGs in FROM without a declaration', () => {
    const p = planOf('FROM img-${TARGETARCH}-${TARGETOS}');
    assert.deepEqual(p.stages[0].base, { kind: 'image', ref: 'img-amd64-linux' });
  });

  it('warns about build args no ARG consumes, but not proxies or declared ones', () => {
    const p = planOf('ARG A\nFROM busybox\nARG B\nFROM busybox AS x\nARG C', { buildArgs: { A: '1', B: '2', C: '3', D: '4', HTTP_PROXY: 'x' }, target: 'x' });
    assert.deepEqual(p.warnings, ['[Warning] One or more build-args [B D] were not consumed']);
  });

  it('keeps FROM --platform (expanded) on its stage, which is built for it', () => {
    const p = planOf('FROM --platform=$BUILDPLATFORM busybox AS b\nFROM --platform=linux/arm64 busybox');
    assert.deepEqual(p.warnings, []);
    assert.deepEqual(p.stages.map((s) => s.platform), ['linux/amd64', 'linux/arm64']);
  });

  it('rejects instructions before FROM other than ARG', () => {
    assert.throws(() => planOf('RUN true\nFROM busybox'), /^Error|Dockerfile:1: no build stage in current context$/);
  });

  it('rejects bad and duplicate stage names and unknown flags with the line', () => {
    // The parser refuses this name too; the planner's own check covers ASTs from elsewhere.
    const raw = { keyword: 'FROM', flags: [], args: ['busybox', 'AS', '1abc'], json: false, heredocs: [], startLine: 1, endLine: 1, original: 'FROM busybox AS 1abc' };
    assert.throws(() => plan({ directives: [], escapeToken: '\\', instructions: [raw] }, { platform }), /Dockerfile:1: invalid name for build stage: "1abc"/);
    assert.throws(() => planOf('FROM busybox AS a\nFROM busybox AS a'), /Dockerfile:2: duplicate stage name "a"/);
    assert.throws(() => planOf('FROM busybox\nCOPY --frm=a x y'), /Dockerfile:2: unknown flag: --frm for copy/);
    assert.throws(() => planOf('FROM busybox\n\nRUN --security=insecure true'), /Dockerfile:3: RUN --security=insecure is not supported/);
    // HEALTHCHECK's refusals in BuildKit's parseHealthcheck words.
    assert.throws(() => planOf('FROM busybox\nHEALTHCHECK foo true'), (e: unknown) => e instanceof BuildError && e.message === 'Dockerfile:2: Unknown type "FOO" in HEALTHCHECK (try CMD)');
    assert.throws(() => planOf('FROM busybox\nHEALTHCHECK CMD'), (e: unknown) => e instanceof BuildError && e.message === 'Dockerfile:2: Missing command after HEALTHCHECK CMD');
  });

  it('refuses a --from index past the last stage', () => {
    assert.throws(() => planOf('FROM busybox\nCOPY --from=3 /x /x'), /Dockerfile:2: invalid stage index 3/);
  });
});
