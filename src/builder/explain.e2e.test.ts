// Miss explanations as a user meets them: on one state root, each kind of change is applied,
// built, undone and built again, then the next kind follows. Exactly the steps the change
// reaches must miss, the first of them must name the change (against the entry the previous
// build used, not merely the newest one), and the undo must hit again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore, type Store } from '../store/store.js';
import { buildSteps } from '../testing/build-steps.js';
import { runStrata, tempDir } from '../testing/cli.js';

const BASE = 'explain-base:1';

const DOCKERFILE = (o: { mode?: string; greeting?: string; done?: string; chmod?: string } = {}) => `
FROM ${BASE} AS files
COPY src/ /src/
RUN ls -l /src > /listing.txt

FROM ${BASE}
ARG MODE=${o.mode ?? 'a'}
ENV GREETING=${o.greeting ?? 'hello'}
RUN echo "$MODE $GREETING" > /out.txt
COPY --chmod=${o.chmod ?? '644'} conf/ /conf/
ADD files.tar /add/
RUN --mount=type=bind,source=bind.txt,target=/bound.txt cat /bound.txt > /seen.txt
RUN echo ${o.done ?? 'done'} > /done.txt
COPY --from=files /listing.txt /
`;

const FILES = ['[files 2/3] COPY src/ /src/', '[files 3/3] RUN ls -l /src > /listing.txt'];
const FINAL = [
  '[stage-1 2/7] RUN echo "$MODE $GREETING" > /out.txt',
  '[stage-1 3/7] COPY --chmod=644 conf/ /conf/',
  '[stage-1 4/7] ADD files.tar /add/',
  '[stage-1 5/7] RUN --mount=type=bind,source=bind.txt,target=/bound.txt cat /bound.txt > /seen.txt',
  '[stage-1 6/7] RUN echo done > /done.txt',
  '[stage-1 7/7] COPY --from=files /listing.txt /',
];
const COPY_FROM = FINAL[5];

interface Change {
  name: string;
  apply: () => void | Promise<void>;
  undo: () => void | Promise<void>;
  /** Extra build arguments while the change is applied. */
  args?: string[];
  /** The steps that miss, in order, with the first one's explanation; later ones (same stage) say the parent changed. */
  missed: string[];
  reason: string;
}

describe('miss explanations, change after change on one state root', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;
  let store: Store;
  /** Points BASE at REF, in this process (as `strata tag` does, without a CLI start per change). */
  const retag = async (ref: string) => store.tag((await store.resolveImage(ref)).id, BASE);
  const file = (rel: string) => path.join(ctx, rel);
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(file(rel)), { recursive: true });
    fs.writeFileSync(file(rel), text);
  };
  const strata = (args: string[]) => {
    const r = runStrata(args, { root, timeoutMs: 180_000 });
    assert.equal(r.status, 0, `strata ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const build = (args: string[] = []) => buildSteps(strata(['build', '--progress', 'plain', ...args, ctx]).stderr);
  const dockerfile = (o?: Parameters<typeof DOCKERFILE>[0]) => write('Dockerfile', DOCKERFILE(o));

  before(async () => {
    t = tempDir('strata-explain-');
    root = path.join(t.dir, 'root');
    ctx = path.join(t.dir, 'ctx');
    store = await openStore(root);
    const busybox = await ensureBusybox(store);
    await store.tag(busybox.id, BASE);
    dockerfile();
    for (const n of ['a', 'b', 'c']) write(`src/${n}.txt`, `${n}\n`);
    write('src/debug.log', 'log\n');
    fs.symlinkSync('a.txt', file('src/link'));
    write('conf/app.conf', 'conf\n');
    write('bind.txt', 'bound\n');
    // Two versions of an archive that differ in one member.
    for (const v of ['1', '2']) {
      const dir = path.join(t.dir, `tar${v}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'one.txt'), 'one\n');
      fs.writeFileSync(path.join(dir, 'two.txt'), `two ${v}\n`);
      const made = spawnSync('tar', ['-C', dir, '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', path.join(t.dir, `files${v}.tar`), 'one.txt', 'two.txt']);
      assert.equal(made.status, 0, made.stderr?.toString());
    }
    fs.copyFileSync(path.join(t.dir, 'files1.tar'), file('files.tar'));
    // Another image to re-tag the base to.
    write('alt/Dockerfile', `FROM ${BASE}\nRUN echo alt > /alt.txt\n`);
    strata(['build', '-q', '-t', 'explain-alt:1', file('alt')]);
    fs.rmSync(file('alt'), { recursive: true });
  });
  after(() => {
    spawnSync('runc', ['--root', path.join(root, 'runc'), 'list', '-q'], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean)
      .forEach((id) => spawnSync('runc', ['--root', path.join(root, 'runc'), 'delete', '-f', id]));
    t.cleanup();
  });

  const srcChange = (name: string, reason: string, apply: () => void, undo: () => void): Change => ({ name, apply, undo, reason, missed: [...FILES, COPY_FROM] });
  const content = (rel: string) => fs.readFileSync(file(rel), 'utf8');
  let saved = '';
  const changes: Change[] = [
    srcChange('content', 'src/a.txt changed', () => write('src/a.txt', 'A\n'), () => write('src/a.txt', 'a\n')),
    srcChange('mode', 'src/b.txt mode changed (644 -> 755)', () => fs.chmodSync(file('src/b.txt'), 0o755), () => fs.chmodSync(file('src/b.txt'), 0o644)),
    srcChange('file added', 'src/d.txt added', () => write('src/d.txt', 'd\n'), () => fs.rmSync(file('src/d.txt'))),
    srcChange('file removed', 'src/c.txt removed', () => fs.rmSync(file('src/c.txt')), () => write('src/c.txt', 'c\n')),
    srcChange('file renamed', 'src/c.txt renamed to src/e.txt', () => fs.renameSync(file('src/c.txt'), file('src/e.txt')), () => fs.renameSync(file('src/e.txt'), file('src/c.txt'))),
    srcChange('.dockerignore', 'src/debug.log removed', () => write('.dockerignore', '**/*.log\n'), () => fs.rmSync(file('.dockerignore'))),
    srcChange('symlink target', 'src/link target changed (a.txt -> b.txt)', () => {
      fs.rmSync(file('src/link'));
      fs.symlinkSync('b.txt', file('src/link'));
    }, () => {
      fs.rmSync(file('src/link'));
      fs.symlinkSync('a.txt', file('src/link'));
    }),
    { name: 'build arg used', args: ['--build-arg', 'MODE=b'], apply: () => undefined, undo: () => undefined, missed: FINAL, reason: 'build arg MODE changed' },
    { name: 'build arg unused', args: ['--build-arg', 'UNUSED=1'], apply: () => undefined, undo: () => undefined, missed: [], reason: '' },
    { name: 'build arg default', apply: () => dockerfile({ mode: 'c' }), undo: () => dockerfile(), missed: FINAL, reason: 'build arg MODE changed' },
    { name: 'env', apply: () => dockerfile({ greeting: 'hi' }), undo: () => dockerfile(), missed: FINAL, reason: 'env GREETING changed' },
    {
      name: 'instruction text', apply: () => dockerfile({ done: 'finished' }), undo: () => dockerfile(),
      missed: ['[stage-1 6/7] RUN echo finished > /done.txt', COPY_FROM], reason: 'instruction changed (was: RUN echo done > /done.txt)',
    },
    {
      name: 'COPY flag', apply: () => dockerfile({ chmod: '600' }), undo: () => dockerfile(),
      missed: ['[stage-1 3/7] COPY --chmod=600 conf/ /conf/', ...FINAL.slice(2)], reason: 'instruction changed (was: COPY --chmod=644 conf/ /conf/)',
    },
    {
      name: 'base image re-tagged', apply: () => retag('explain-alt:1'), undo: () => retag('busybox'),
      missed: [...FILES, ...FINAL], reason: `base image ${BASE} changed`,
    },
    {
      name: 'ADD archive member', apply: () => fs.copyFileSync(path.join(t.dir, 'files2.tar'), file('files.tar')), undo: () => fs.copyFileSync(path.join(t.dir, 'files1.tar'), file('files.tar')),
      missed: FINAL.slice(2), reason: 'files.tar changed',
    },
    {
      name: 'bind-mounted file', apply: () => { saved = content('bind.txt'); write('bind.txt', 'other\n'); }, undo: () => write('bind.txt', saved),
      missed: FINAL.slice(3), reason: 'bind.txt changed',
    },
  ];

  it('builds the project once', () => {
    const first = build();
    assert.deepEqual(first.map((s) => s.step).sort(), [...FILES, ...FINAL].sort());
    assert.equal(first.filter((s) => s.cached).length, 0);
    assert.ok(build().every((s) => s.cached), 'a second build is all cached');
  });

  for (const c of changes) {
    it(`names the change: ${c.name}`, async () => {
      await c.apply();
      try {
        const steps = build(c.args);
        const missed = steps.filter((s) => !s.cached);
        assert.deepEqual(missed.map((s) => s.step).sort(), [...c.missed].sort(), 'exactly these steps miss');
        // The first miss of each stage names the change (or, for the COPY --from alone, the stage
        // it reads); the rest of the stage follows its parent.
        for (const stage of ['[files', '[stage-1']) {
          const inStage = missed.filter((s) => s.step.startsWith(stage));
          if (inStage.length === 0) continue;
          const reason = inStage[0].step === COPY_FROM ? 'stage files changed' : c.reason;
          assert.equal(inStage[0].reason, reason, `${inStage[0].step} explains the change`);
          for (const s of inStage.slice(1)) assert.equal(s.reason, 'parent step changed', s.step);
        }
      } finally {
        await c.undo();
      }
      const again = build();
      assert.deepEqual(again.filter((s) => !s.cached).map((s) => `${s.step}: ${s.reason}`), [], 'the undo hits the cache');
    });
  }
});
