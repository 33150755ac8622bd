// kill -9 of `strata build` at every moment that matters (failpoints, src/failpoint.ts), of the
// CLI alone and of its whole process group, with real runc on overlayfs. After each kill: the
// store is intact as the kill left it (nothing referenced half-written), the next commands
// work and sweep what the kill left (images, ps -a, cache ls), no build container outlives the
// build, a rebuild reuses exactly the steps that were complete, and an older image still runs.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { assertNoLeftovers, assertStoreIntact, eventually, processesRunning, runStrataAsync, runUntilKilled, writeContext } from '../testing/faults.js';

/** A RUN that would sleep this long is running while the build is killed (a number no other test uses). */
const PAUSE = '86395';

const DOCKERFILE = `FROM busybox
COPY files/ /files/
ARG NONCE
RUN echo "$NONCE" > /nonce && head -c 3000000 /dev/urandom > /big
ARG PAUSE=0
RUN echo started; sleep $PAUSE; echo done > /s4
`;

/** The steps of a plain-progress build that were CACHED, by instruction text. */
function cachedSteps(stderr: string): string[] {
  const names = new Map<string, string>();
  const cached: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    if (!names.has(m[1]!)) names.set(m[1]!, m[2]!.replace(/^\[[^\]]*\] /, ''));
    else if (m[2] === 'CACHED' && !names.get(m[1]!)!.startsWith('FROM')) cached.push(names.get(m[1]!)!);
  }
  return cached;
}

interface Point {
  /** STRATA_FAILPOINT value (see src/failpoint.ts). */
  point: string;
  /** The first RUN (step 4) was complete before the kill: the rebuild reuses it. */
  firstRunComplete: boolean;
  /** The kill comes while the second RUN's container runs. */
  midRun?: boolean;
  /** Change the context's files first, so that the context is hashed (and copied) again. */
  touchContext?: boolean;
}

const POINTS: Point[] = [
  { point: 'context.hashed', firstRunComplete: false, touchContext: true },
  { point: 'context.stat-cache', firstRunComplete: false, touchContext: true },
  { point: 'context.selection-memo', firstRunComplete: false, touchContext: true },
  { point: 'layer.chunk:2', firstRunComplete: false },
  { point: 'layer.written', firstRunComplete: false },
  { point: 'layer.snapshot-moved', firstRunComplete: false },
  { point: 'layer.split-placed', firstRunComplete: false },
  { point: 'cache.before-record', firstRunComplete: false },
  { point: 'cache.index-written', firstRunComplete: false },
  { point: 'build.run-output', firstRunComplete: true, midRun: true },
  { point: 'build.run-exited:2', firstRunComplete: true },
  { point: 'image.before-index', firstRunComplete: true },
  { point: 'index.before-rename', firstRunComplete: true },
];

describe('kill -9 of strata build at each failpoint', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;
  let nonce = 0;
  const strata = (args: string[]) => runStrata(args, { root, timeoutMs: 180_000 });

  function writeFiles(): void {
    const files = path.join(ctx, 'files');
    fs.rmSync(files, { recursive: true, force: true });
    for (let i = 0; i < 300; i++) {
      const dir = path.join(files, `d${i % 10}`);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, `f${i}.txt`), crypto.randomBytes(200 + i));
    }
  }

  before(async () => {
    t = tempDir('strata-faults-build-');
    root = path.join(t.dir, 'root');
    ctx = writeContext(t.dir, 'ctx', DOCKERFILE);
    writeFiles();
    await ensureBusybox(await openStore(root));
    const built = strata(['build', '-q', '-t', 'older:1', writeContext(t.dir, 'older', 'FROM busybox\nRUN echo older > /older\n')]);
    assert.equal(built.status, 0, built.stderr);
  });
  after(() => t.cleanup());

  for (const p of POINTS) {
    for (const group of [false, true]) {
      it(`${p.point}, ${group ? 'process group' : 'CLI alone'}`, async () => {
        if (p.touchContext) writeFiles();
        const n = nonce++;
        const args = (pause: string) => ['build', '--progress', 'plain', '-t', 'faulty:1', '--build-arg', `NONCE=${n}`, '--build-arg', `PAUSE=${pause}`, ctx];
        const sleeper = ['sleep', PAUSE];
        await runUntilKilled(args(p.midRun ? PAUSE : '0'), { root, point: p.point, group });
        // The state the kill left is already consistent; no build container outlives the build.
        await assertStoreIntact(root);
        assert.ok(await eventually(() => processesRunning(sleeper).length === 0), 'the RUN container was killed with its build');

        const next = [['images'], ['ps', '-a'], ['cache', 'ls']];
        for (const [i, r] of (await Promise.all(next.map((cmd) => runStrataAsync(cmd, { root })))).entries()) {
          assert.equal(r.status, 0, `${next[i]!.join(' ')}: ${r.stderr}`);
          assert.equal(r.stderr, '', `${next[i]!.join(' ')} printed errors`);
        }
        await assertNoLeftovers(root);

        const rebuilt = strata(args('0'));
        assert.equal(rebuilt.status, 0, rebuilt.stderr);
        const cached = cachedSteps(rebuilt.stderr);
        assert.equal(cached.some((s) => s.startsWith('RUN echo "$NONCE"')), p.firstRunComplete, `cached on rebuild: ${cached.join(' | ')}`);
        if (!p.touchContext) assert.ok(cached.includes('COPY files/ /files/'), 'the context copy of an earlier build is reused');
        // The image checks need no network (none: no veth to make and remove per container).
        const ran = strata(['run', '--rm', '--network', 'none', 'faulty:1', 'cat', '/nonce', '/s4']);
        assert.equal(ran.stdout, `${n}\ndone\n`, ran.stderr);
        if (group) {
          const older = strata(['run', '--rm', '--network', 'none', 'older:1', 'cat', '/older']);
          assert.equal(older.stdout, 'older\n', older.stderr);
        }
      });
    }
  }
});
