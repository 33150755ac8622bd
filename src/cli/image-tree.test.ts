// `image tree` (podman's layers view, and --whatrequires), `image diff` (podman's) and
// `history` keeping a heredoc step on one row, over real builds.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeHashPool } from '../hash/index.js';
import { openStore } from '../store/index.js';
import { ensureBusybox } from '../testing/busybox.js';
import { runStrata, tempDir } from '../testing/cli.js';

after(closeHashPool);

describe('image tree, image diff and history rows', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  const strata = (args: string[]) => {
    const r = runStrata(args, { root, timeoutMs: 120_000 });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    t = tempDir('strata-tree-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    const ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN <<EOF\necho one > /a\necho two > /b\nEOF\nENV X=1\n');
    strata(['build', '-q', '-t', 'here:1', ctx]);
  });
  after(() => t.cleanup());

  it('history shows a heredoc step on one row, its newlines as \\n', () => {
    const rows = strata(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'here:1']).trimEnd().split('\n');
    const history = JSON.parse(strata(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'here:1'])) as string[];
    assert.equal(history.length, 2);
    assert.equal(rows.length, 4, rows.join('\n')); // ENV, RUN, and busybox's CMD and ADD
    assert.equal(rows[1], 'RUN /bin/sh -c echo one > /a\\necho two > /b\\n # buildkit');
    const table = strata(['history', 'here:1']).trimEnd().split('\n');
    assert.equal(table.length, 5, table.join('\n'));
  });

  it('image tree lists the layers bottom first with the images they top; --whatrequires the images built on it', () => {
    const [base, top] = JSON.parse(strata(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'here:1'])) as string[];
    const id = strata(['images', '-q', 'here:1']).trim();
    const size = '[0-9.]+k?M?B';
    assert.match(strata(['image', 'tree', 'here:1']), new RegExp(`^${[
      `Image ID: ${id}`, 'Tags:     \\[docker.io/library/here:1\\]', `Size:     ${size}`, 'Image Layers',
      `├── ID: ${base!.slice(7, 19)} Size: ${size} Top Layer of: \\[docker.io/library/busybox:latest\\]`,
      `└── ID: ${top!.slice(7, 19)} Size: ${size} Top Layer of: \\[docker.io/library/here:1\\]`, '',
    ].join('\n')}$`));
    assert.match(strata(['image', 'tree', '--whatrequires', 'busybox']), new RegExp(`Images built on it\\n└── ID: ${id} Tags: \\[docker.io/library/here:1\\]\\n$`));
    assert.match(strata(['image', 'tree', '--whatrequires', 'here:1']), /Images built on it\n$/);
  });

  it('image diff: what the top layer changes, and the changes from one image to another', () => {
    const ctx = path.join(t.dir, 'ctx-diff');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo a > /a && rm -rf /home && mkdir -p /d/e && touch /d/e/f && chmod 700 /tmp\n');
    strata(['build', '-q', '-t', 'diff:1', ctx]);
    assert.equal(strata(['image', 'diff', 'diff:1']), 'A /a\nA /d\nA /d/e\nA /d/e/f\nD /home\nC /tmp\n');
    assert.equal(strata(['image', 'diff', 'diff:1', 'busybox']), 'D /a\nD /d\nA /home\nC /tmp\n');
    assert.equal(strata(['image', 'diff', 'busybox', 'busybox']), '');
    // `diff` takes images too, as podman's: one image (its top layer) or two.
    assert.equal(strata(['diff', 'diff:1']), 'A /a\nA /d\nA /d/e\nA /d/e/f\nD /home\nC /tmp\n');
    assert.equal(strata(['diff', 'diff:1', 'busybox']), 'D /a\nD /d\nA /home\nC /tmp\n');
    const neither = runStrata(['diff', 'nope:1'], { root });
    assert.notEqual(neither.status, 0);
    assert.match(neither.stderr, /^Error: no such container: "nope:1"\n$/);
    const missing = runStrata(['image', 'diff', 'nope:1'], { root });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^Error: no such image: "nope:1"\n$/);
  });
});
