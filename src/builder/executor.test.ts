// The executor without containers (like buildkit's scheduler tests): a fake runner that
// counts runs and writes what a RUN would, a real store, FROM scratch.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerRunner, RunSpec } from '../runtime/types.js';
import { openStore, type Store } from '../store/store.js';
import { tempDir } from '../testing/cli.js';
import { build, type BuildOptions } from './build.js';
import { closeHashing } from './context.js';
import { QuietReporter } from './progress.js';

class FakeRunner implements ContainerRunner {
  runs: string[] = [];
  running = 0;
  maxRunning = 0;
  private waiters: (() => void)[] = [];
  /** How long a `meet` step waits for its partner. */
  meetTimeoutMs = 10_000;
  constructor(private readonly meet = true) {}
  async run(spec: RunSpec) {
    const script = spec.args[spec.args.length - 1];
    this.runs.push(script);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.meet && script.startsWith('meet')) {
        // Two stages meet here: each waits (up to 10 s) for the other to be running too.
        for (const w of this.waiters.splice(0)) w();
        if (this.running < 2) {
          await new Promise<void>((r) => {
            const timer = setTimeout(r, this.meetTimeoutMs);
            this.waiters.push(() => {
              clearTimeout(timer);
              r();
            });
          });
        }
      }
      const m = /^(?:meet )?write (\S+) (.*)$/.exec(script);
      if (m) {
        fs.mkdirSync(path.dirname(path.join(spec.rootfs.upperDir, m[1])), { recursive: true });
        fs.writeFileSync(path.join(spec.rootfs.upperDir, m[1]), `${m[2]}\n`);
      }
      return { exitCode: script === 'fail' ? 3 : 0 };
    } finally {
      this.running--;
    }
  }
}

describe('executor (fake runner)', () => {
  let t: ReturnType<typeof tempDir>;
  let store: Store;
  let ctx: string;
  before(async () => {
    t = tempDir('strata-exec-');
    store = await openStore(path.join(t.dir, 'root'));
    ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'in.txt'), 'input');
  });
  after(async () => {
    await closeHashing();
    t.cleanup();
  });

  async function run(text: string, runner: FakeRunner, extra: Partial<BuildOptions> = {}) {
    return build({
      stateRoot: store.root, store, runner, reporter: new QuietReporter(process.stderr), contextDir: ctx,
      dockerfile: { text, name: 'Dockerfile' }, concurrency: 2, ...extra,
    });
  }

  const DF = [
    'FROM scratch AS a',
    'RUN meet write /a.txt from-a',
    'FROM scratch AS b',
    'RUN meet write /b.txt from-b',
    'FROM scratch',
    'COPY --from=a /a.txt /',
    'COPY --from=b /b.txt /',
    'COPY in.txt /',
    'RUN write /final.txt done',
  ].join('\n');

  it('runs independent stages in parallel and caches every step', async () => {
    const runner = new FakeRunner();
    const r = await run(DF, runner, { tags: ['fake:1'] });
    assert.equal(runner.maxRunning, 2, 'stages a and b ran at the same time');
    assert.equal(runner.runs.length, 3);
    assert.equal(r.steps.filter((s) => s.cached).length, 0);
    assert.equal(r.image.config.rootfs.diff_ids.length, 4);
    assert.equal(r.image.config.history.length, 4);
    const again = new FakeRunner();
    const r2 = await run(DF, again, { tags: ['fake:1'] });
    assert.equal(again.runs.length, 0, 'a warm build starts no container');
    assert.equal(r2.image.id, r.image.id, 'and writes the same image');
    assert.match(r2.summary, /^6 steps, 6 cached, 0 built in /);
  });

  it('dates metadata rows by the build steps, not the base image (podman), and keeps a warm rebuild ID', async () => {
    const base = await run('FROM scratch\nRUN write /base.txt b\n', new FakeRunner(false), { tags: ['hbase:1'] });
    const text = 'FROM hbase:1\nENV A=1\nLABEL x=y\nRUN write /f.txt f\nCMD ["/bin/sh"]\n';
    const r = await run(text, new FakeRunner(false), { tags: ['hmeta:1'] });
    const rows = r.image.config.history.slice(base.image.config.history.length);
    assert.deepEqual(rows.map((h) => h.created_by?.split(' ')[0]), ['ENV', 'LABEL', 'RUN', 'CMD']);
    const runAt = rows[2].created!;
    assert.ok(runAt > base.image.config.created!, 'the step ran after the base was made');
    assert.deepEqual(rows.map((h) => h.created), [runAt, runAt, runAt, runAt], 'ENV/LABEL before the RUN take its time, CMD after it too');
    assert.equal(r.image.config.created, runAt);
    const again = await run(text, new FakeRunner(false), { tags: ['hmeta:1'] });
    assert.equal(again.image.id, r.image.id, 'a warm rebuild writes the same image');
  });

  it('dates a metadata-only stage by its first build, not the base image, and keeps that date on a rebuild', async () => {
    const base = await run('FROM scratch\nRUN write /base.txt b\n', new FakeRunner(false), { tags: ['mbase:1'] });
    const before = new Date().toISOString();
    const text = 'FROM mbase:1\nENV A=1\nCMD ["/bin/sh"]\n';
    const r = await run(text, new FakeRunner(false), { tags: ['monly:1'] });
    const rows = r.image.config.history.slice(base.image.config.history.length);
    assert.deepEqual(rows.map((h) => h.created_by), ['ENV A=1', 'CMD ["/bin/sh"]']);
    assert.ok(rows[0].created! >= before, `dated by this build (${rows[0].created}), not the base's ${base.image.config.created}`);
    assert.deepEqual(rows.map((h) => h.created), [rows[0].created, rows[0].created]);
    assert.equal(r.image.config.created, rows[0].created);
    const again = await run(text, new FakeRunner(false), { tags: ['monly:1'] });
    assert.equal(again.image.id, r.image.id, 'a rebuild writes the same image');
    const changed = await run('FROM mbase:1\nENV A=2\nCMD ["/bin/sh"]\n', new FakeRunner(false), { tags: ['monly:2'] });
    assert.ok(changed.image.config.created! > r.image.config.created!, 'changed metadata is dated anew');
    const uncached = await run(text, new FakeRunner(false), { tags: ['monly:3'], noCache: true });
    assert.ok(uncached.image.config.created! > r.image.config.created!, '--no-cache dates it anew');
  });

  it('copies wildcards from a stage', async () => {
    const runner = new FakeRunner(false);
    const r = await run('FROM scratch AS a\nRUN write /out/x.tar x\nFROM scratch AS b\nCOPY --from=a /out/*.tar /app/\n', runner, { tags: ['glob:1'] });
    const top = await store.layerPath(r.image.config.rootfs.diff_ids.at(-1)!);
    assert.equal(fs.readFileSync(path.join(top, 'app', 'x.tar'), 'utf8'), 'x\n');
  });

  it('--no-cache-filter rebuilds the stage and the steps that read it, nothing else', async () => {
    const runner = new FakeRunner(false);
    const r = await run(DF, runner, { noCacheFilter: ['b'] });
    assert.deepEqual(runner.runs, ['meet write /b.txt from-b', 'write /final.txt done']);
    const reasons = r.steps.filter((s) => s.stage !== 'a').map((s) => `${s.stage} ${s.instruction}: ${s.cached ? 'CACHED' : s.missReason}`);
    assert.deepEqual(reasons, [
      'b RUN meet write /b.txt from-b: cache disabled for stage b (--no-cache-filter)',
      'stage-2 COPY --from=a /a.txt /: CACHED',
      'stage-2 COPY --from=b /b.txt /: depends on stage b (--no-cache-filter)',
      'stage-2 COPY in.txt /: depends on stage b (--no-cache-filter)',
      'stage-2 RUN write /final.txt done: depends on stage b (--no-cache-filter)',
    ]);
  });

  it('--no-cache-filter reaches stages built FROM the filtered one, transitively', async () => {
    const text = 'FROM scratch AS base\nRUN write /base.txt 1\nFROM base AS mid\nRUN write /mid.txt 2\nFROM scratch AS other\nRUN write /o.txt 3\nFROM other\nCOPY --from=mid /mid.txt /\n';
    await run(text, new FakeRunner(false));
    const runner = new FakeRunner(false);
    const r = await run(text, runner, { noCacheFilter: ['base'] });
    assert.deepEqual(runner.runs, ['write /base.txt 1', 'write /mid.txt 2']);
    assert.deepEqual(r.steps.filter((s) => !s.cached).map((s) => s.missReason), [
      'cache disabled for stage base (--no-cache-filter)', 'depends on stage base (--no-cache-filter)', 'depends on stage base (--no-cache-filter)',
    ]);
    assert.equal(r.steps.find((s) => s.stage === 'other')?.cached, true);
  });

  it('runs steps sharing a locked cache mount one at a time', async () => {
    const runner = new FakeRunner();
    const text = [
      'FROM scratch AS a',
      'RUN --mount=type=cache,target=/c,sharing=locked meet write /a.txt a',
      'FROM scratch AS b',
      'RUN --mount=type=cache,target=/c,sharing=locked meet write /b.txt b',
      'FROM scratch',
      'COPY --from=a /a.txt /',
      'COPY --from=b /b.txt /',
    ].join('\n');
    const waited = runner.meetTimeoutMs;
    runner.meetTimeoutMs = 300;
    try {
      await run(text, runner);
    } finally {
      runner.meetTimeoutMs = waited;
    }
    assert.equal(runner.runs.length, 2);
    assert.equal(runner.maxRunning, 1);
  });

  it('gives a second concurrent user of a private cache mount its own dir', async () => {
    const seen: string[] = [];
    const runner = new FakeRunner();
    const inner = runner.run.bind(runner);
    runner.run = async (spec) => {
      const cache = spec.mounts.find((m) => m.destination === '/c');
      seen.push(cache?.type === 'bind' ? cache.source : '');
      return inner(spec);
    };
    const text = [
      'FROM scratch AS a',
      'RUN --mount=type=cache,target=/c,sharing=private meet write /a.txt pa',
      'FROM scratch AS b',
      'RUN --mount=type=cache,target=/c,sharing=private meet write /b.txt pb',
      'FROM scratch',
      'COPY --from=a /a.txt /',
      'COPY --from=b /b.txt /',
    ].join('\n');
    await run(text, runner);
    assert.equal(runner.maxRunning, 2, 'both ran at once');
    assert.equal(new Set(seen).size, 2, 'on different dirs');
    assert.equal(fs.readdirSync(path.join(store.root, 'build', 'cache-mounts')).filter((f) => f.endsWith('.inuse')).length, 0, 'claims released');
  });

  it("writes HEALTHCHECK's history as BuildKit does: fmt's %q of the image's HealthcheckConfig", async () => {
    const text = 'FROM scratch\nHEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 CMD curl -f "http://x/" || exit 1\nHEALTHCHECK NONE\n';
    const rows = (await run(text, new FakeRunner(false), { tags: ['hchist:1'] })).image.config.history.slice(-2);
    assert.deepEqual(rows.map((h) => h.created_by), [
      'HEALTHCHECK &{["CMD-SHELL" "curl -f \\"http://x/\\" || exit 1"] "1m30s" "500ms" "0s" "0s" \'\\x03\'}',
      'HEALTHCHECK &{["NONE"] "0s" "0s" "0s" "0s" \'\\x00\'}',
    ]);
  });

  it("writes CMD and ENTRYPOINT history as BuildKit's %q of the words (Go's quoting, not JSON's)", async () => {
    const text = 'FROM scratch\nENTRYPOINT ["/bin/echo", "\\u0001\\u007f"]\nCMD ["é", "a\\"b"]\n';
    const rows = (await run(text, new FakeRunner(false))).image.config.history.slice(-2);
    assert.deepEqual(rows.map((h) => h.created_by), ['ENTRYPOINT ["/bin/echo" "\\x01\\x7f"]', 'CMD ["é" "a\\"b"]']);
  });

  it("checks HEALTHCHECK's flags as BuildKit's parseHealthcheck: 0 is unset, under 1ms refused, Go's parse errors", async () => {
    const zero = await run('FROM scratch\nHEALTHCHECK --interval=0s --timeout=0 --retries=0 CMD ["true"]\n', new FakeRunner(false));
    assert.deepEqual(zero.image.config.config?.Healthcheck, { Test: ['CMD', 'true'] });
    for (const [flags, message] of [
      ['--interval=soon', 'time: invalid duration "soon"'],
      ['--timeout=5', 'time: missing unit in duration "5"'],
      ['--interval=500us', 'Interval "interval" cannot be less than 1ms'],
      ['--start-period=-1s', 'Interval "start-period" cannot be less than 1ms'],
      ['--retries=x', 'strconv.ParseInt: parsing "x": invalid syntax'],
      ['--retries=-1', '--retries cannot be negative (-1)'],
    ]) {
      await assert.rejects(run(`FROM scratch\nHEALTHCHECK ${flags} CMD ["true"]\n`, new FakeRunner(false)), (e: Error) => e.message.endsWith(`Dockerfile:2: ${message}`), message);
    }
  });

  it('a failing RUN fails the build with its line and caches nothing of it', async () => {
    const runner = new FakeRunner();
    const text = 'FROM scratch\nRUN write /ok.txt ok\nRUN fail\n';
    await assert.rejects(run(text, runner), /Dockerfile:3: RUN did not complete successfully: exit code: 3/);
    const again = new FakeRunner();
    await assert.rejects(run(text, again));
    assert.deepEqual(again.runs, ['fail'], 'the step before is cached, the failed one is not');
    assert.deepEqual(fs.readdirSync(path.join(store.root, 'build', 'work')), []);
  });

  it('removes scratch dirs a killed build left behind', async () => {
    const work = path.join(store.root, 'build', 'work');
    // pid 2^22+1 is above Linux's pid_max limit: never a live process.
    fs.mkdirSync(path.join(work, `${2 ** 22 + 1}-deadbeef`, 'upper'), { recursive: true });
    fs.mkdirSync(path.join(work, `${process.pid}-mine`), { recursive: true });
    await run('FROM scratch\nCOPY in.txt /\n', new FakeRunner(false));
    assert.deepEqual(fs.readdirSync(work), [`${process.pid}-mine`]);
    fs.rmdirSync(path.join(work, `${process.pid}-mine`));
  });
});
