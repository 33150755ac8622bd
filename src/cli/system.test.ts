// Damage in the store met by real commands after real builds: every command that meets it
// names the image, layer or file in one line (exit 125, no stack trace), `system check` finds
// it (fast: sizes, full: hashes), `--repair` mends what it can, and building again replaces a
// damaged layer instead of trusting it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runStrata, tempDir } from '../testing/cli.js';
import { closeHashPool } from '../hash/index.js';
import { openStore } from '../store/index.js';
import { ensureBusybox } from '../testing/busybox.js';

after(closeHashPool);

const EPOCH = ['--build-arg', 'SOURCE_DATE_EPOCH=1700000000'];

function ok(r: { status: number; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.status, 0, `${what}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** One line on stderr, exit 125, matching `re`. */
function damaged(r: { status: number; stdout: string; stderr: string }, re: RegExp, what: string): void {
  assert.equal(r.status, 125, `${what}: exit ${r.status}\n${r.stderr}`);
  assert.match(r.stderr.trim(), re, what);
  assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
}

/** A state root with busybox and localhost/app:1 built (reproducibly) from a context with a COPY and a RUN. */
function withBuilt(fn: (o: { root: string; ctx: string; scratch: string; layers: string[]; id: string }) => Promise<void>) {
  return async () => {
    const t = tempDir();
    const root = path.join(t.dir, 'root');
    const ctx = path.join(t.dir, 'ctx');
    try {
      await ensureBusybox(await openStore(root));
      fs.mkdirSync(ctx);
      fs.writeFileSync(path.join(ctx, 'big.bin'), Buffer.alloc(200_000, 'b'));
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY big.bin /app/\nRUN echo built > /app/note\n');
      const id = ok(runStrata(['build', '-q', ...EPOCH, '-t', 'localhost/app:1', ctx], { root }), 'build').trim();
      const layers = JSON.parse(ok(runStrata(['inspect', '--format', '{{json .RootFS.Layers}}', 'localhost/app:1'], { root }), 'inspect')) as string[];
      await fn({ root, ctx, scratch: t.dir, layers, id });
    } finally {
      t.cleanup();
    }
  };
}

const check = (root: string, ...flags: string[]) => runStrata(['system', 'check', ...flags], { root });

test('a damaged config: images, inspect, history, run, build and save name it; rmi -f and a rebuild mend it', withBuilt(async ({ root, ctx, scratch, id }) => {
  const blob = path.join(root, 'blobs', 'sha256', id.slice(7));
  fs.truncateSync(blob, 20);
  const named = new RegExp(`^Error: (Dockerfile\\.child:1: )?image "localhost/app:1": config "${id}" is damaged: its content does not match its digest`);
  fs.writeFileSync(path.join(ctx, 'Dockerfile.child'), 'FROM localhost/app:1\nRUN true\n');
  for (const args of [['images'], ['inspect', 'localhost/app:1'], ['history', 'localhost/app:1'], ['run', '--rm', 'localhost/app:1', 'true'],
    ['build', '-q', '-f', path.join(ctx, 'Dockerfile.child'), ctx], ['save', '-o', path.join(scratch, 'out.tar'), 'localhost/app:1']]) {
    damaged(runStrata(args, { root }), named, args[0]);
  }
  assert.equal(fs.existsSync(path.join(scratch, 'out.tar')), false, 'save wrote nothing');
  const r = check(root);
  assert.equal(r.status, 1);
  assert.match(r.stdout, new RegExp(`^damaged: image "localhost/app:1": config "${id}": its content does not match its digest .*\\(remove it \\(strata rmi -f "localhost/app:1"\\)`, 'm'));
  ok(runStrata(['rmi', '-f', 'localhost/app:1'], { root }), 'rmi -f of a damaged image');
  assert.equal(ok(runStrata(['build', '-q', '--no-cache', ...EPOCH, '-t', 'localhost/app:1', ctx], { root }), 'rebuild').trim(), id, 'the same image again');
  assert.equal(fs.statSync(blob).size > 20, true, 'the config blob was written again, not trusted');
  assert.match(ok(check(root, '--full'), 'check'), /^full check \(.* hashed\) of 2 images, 3 layers, .*: no damage found$/m);
  ok(runStrata(['save', '-o', path.join(scratch, 'out.tar'), 'localhost/app:1'], { root }), 'save');
}));

test('a snapshot file truncated or altered: save names the layer, check finds it, a --no-cache rebuild replaces the damaged copy', withBuilt(async ({ root, ctx, scratch, layers }) => {
  const file = path.join(root, 'layers', layers[1].slice(7), 'app', 'big.bin');
  fs.truncateSync(file, 1000);
  damaged(runStrata(['save', '-o', path.join(scratch, 'out.tar'), 'localhost/app:1'], { root }),
    new RegExp(`^Error: image "localhost/app:1": layer "${layers[1]}" is damaged: file "app/big.bin" of its snapshot has 1000 bytes, the layer says 200000$`), 'save');
  assert.match(check(root).stdout, new RegExp(`^damaged: image "localhost/app:1": layer "${layers[1]}": file "app/big.bin" of its snapshot has 1000 bytes`, 'm'));
  fs.writeFileSync(file, Buffer.alloc(200_000, 'X')); // right size, other bytes: only hashing sees it
  assert.equal(check(root).status, 0, 'the fast check sees sizes only');
  const full = check(root, '--full');
  assert.equal(full.status, 1);
  assert.match(full.stdout, new RegExp(`^damaged: image "localhost/app:1": layer "${layers[1]}": file "app/big.bin" of its snapshot does not hold the layer's content`, 'm'));
  damaged(runStrata(['save', 'localhost/app:1'], { root }), new RegExp(`layer "${layers[1]}" is damaged: its content does not match its digest`), 'save to stdout');
  ok(runStrata(['rmi', '-f', 'localhost/app:1'], { root }), 'rmi -f');
  const rebuilt = ok(runStrata(['build', '-q', '--no-cache', ...EPOCH, '-t', 'localhost/app:1', ctx], { root }), 'rebuild').trim();
  assert.deepEqual(JSON.parse(ok(runStrata(['inspect', '--format', '{{json .RootFS.Layers}}', rebuilt], { root }), 'inspect')), layers, 'same layers');
  assert.equal(fs.readFileSync(file, 'utf8'), 'b'.repeat(200_000), 'the damaged copy was replaced');
  ok(check(root, '--full'), 'check');
}));

test('a missing snapshot: run names the layer; repair drops its cache entry; a build makes the layer again', withBuilt(async ({ root, ctx, layers }) => {
  const snap = path.join(root, 'layers', layers[2].slice(7));
  fs.rmSync(snap, { recursive: true });
  damaged(runStrata(['run', '--rm', 'localhost/app:1', 'true'], { root }), new RegExp(`^Error: image "localhost/app:1": layer "${layers[2]}" is damaged: its snapshot ".*" is missing$`), 'run');
  const r = check(root, '--repair');
  assert.match(r.stdout, new RegExp(`^damaged: image "localhost/app:1": layer "${layers[2]}": its snapshot is missing -> repaired: its 1 build cache entry is dropped`, 'm'));
  assert.equal(r.status, 0);
  ok(runStrata(['build', '-q', ...EPOCH, '-t', 'localhost/app:1', ctx], { root }), 'build after repair');
  assert.ok(fs.existsSync(snap), 'the step ran again and made the same layer');
  assert.equal(ok(runStrata(['run', '--rm', 'localhost/app:1', 'cat', '/app/note'], { root }), 'run'), 'built\n');
  ok(check(root, '--full'), 'check');
  // A cache entry is not trusted without its layer either: the step runs again.
  fs.rmSync(snap, { recursive: true });
  ok(runStrata(['build', '-q', ...EPOCH, '-t', 'localhost/app:1', ctx], { root }), 'build without repair');
  assert.ok(fs.existsSync(snap));
}));

test('a garbage index.json: every command names the file; repair rebuilds it with the images unnamed', withBuilt(async ({ root, id }) => {
  const file = path.join(root, 'index.json');
  fs.writeFileSync(file, 'garbage{{{');
  for (const args of [['images'], ['run', '--rm', 'busybox', 'true'], ['inspect', 'busybox'], ['tag', 'busybox', 'x']]) {
    damaged(runStrata(args, { root }), new RegExp(`^Error: store index "${file}" is damaged: it is not valid JSON$`), args[0]);
  }
  const r = check(root, '--repair');
  assert.match(r.stdout, /^damaged: store index ".*": it is not valid JSON -> repaired: rebuilt with 2 unnamed image\(s\)/m);
  assert.match(ok(runStrata(['images', '-q', '--no-trunc'], { root }), 'images'), new RegExp(id));
  ok(runStrata(['tag', id, 'localhost/app:1'], { root }), 'name it again');
  ok(runStrata(['run', '--rm', 'localhost/app:1', 'true'], { root }), 'run');
}));
