#!/usr/bin/env node
// `npm test`'s runner: node:test over every dist/**/*.test.js, as `node --test dist/` would run
// them, but the slowest files first, so that a long file does not start last and leave the other
// workers idle at the end (node --test starts files in alphabetical order). Which files are slow
// is in SLOW_FIRST below (measured: see the "testspeed" commits); a file not listed runs after
// them, alphabetically; a listed file that no longer exists is skipped.
// Two files at a time by default: on 2 cores the suite is CPU-bound (a whole run with 3 took as
// long, with more CPU time), and each file's tests run one after another.
//   node scripts/test.mjs [--concurrency N] [--reporter FILE.mjs --destination FILE] [PATH...]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The slowest test files (dist-relative), slowest first. */
const SLOW_FIRST = [
  'runtime/commit-faults.e2e.test.js',
  'builder/faults.e2e.test.js',
  'store/archive/faults.e2e.test.js',
  'cli/networks.test.js',
  'registry/pull-push.test.js',
  'builder/faults-large.e2e.test.js',
  'cli/containers.test.js',
  'cli/images.test.js',
  'cli/lifecycle-more.test.js',
  'cli/containers-flags.test.js',
  'builder/build.e2e.test.js',
  'builder/platform.e2e.test.js',
  'registry/bad-input.test.js',
  'registry/auth.test.js',
  'cli/cp-shapes.test.js',
  'builder/explain.e2e.test.js',
  'builder/conformance-copy.test.js',
  'builder/conformance.test.js',
  'cli/lifecycle.test.js',
  'engine/registry-cache.e2e.test.js',
  'cli/concurrency.e2e.test.js',
  'registry/names.test.js',
  'cli/cp-stream.test.js',
];

function parseArgs(argv) {
  const o = { concurrency: 2, reporter: undefined, destination: undefined, paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--concurrency') o.concurrency = Number(argv[++i]);
    else if (a === '--reporter') o.reporter = argv[++i];
    else if (a === '--destination') o.destination = argv[++i];
    else o.paths.push(a);
  }
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new Error('--concurrency needs a whole number ≥ 1');
  return o;
}

function testFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(p));
    else if (entry.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const o = parseArgs(process.argv.slice(2));
const dist = path.join(repo, 'dist');
const roots = o.paths.length ? o.paths.map((p) => path.resolve(p)) : [dist];
const found = roots.flatMap((p) => (fs.statSync(p).isDirectory() ? testFiles(p) : [p])).sort();
const rank = new Map(SLOW_FIRST.map((f, i) => [path.join(dist, f), i]));
const files = [...found].sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity) || (a < b ? -1 : a > b ? 1 : 0));

// busybox:latest made once for the whole run: each test's new state root copies it (src/testing/busybox.ts).
const template = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-test-busybox-'));
const { createBusybox, openStore } = await import(pathToFileURL(path.join(dist, 'store', 'index.js')).href);
await createBusybox(await openStore(template));
process.env.STRATA_TEST_BUSYBOX_TEMPLATE = template;

const stream = run({ files, concurrency: o.concurrency });
stream.on('test:fail', () => (process.exitCode = 1));
// One stream of events, fanned out to each reporter (iterating it twice would split it).
const outputs = [[process.stdout.isTTY ? new spec() : tap, process.stdout]];
if (o.reporter) {
  const extra = (await import(pathToFileURL(path.resolve(o.reporter)).href)).default;
  outputs.push([extra, o.destination ? fs.createWriteStream(o.destination) : process.stderr]);
}
const feeds = outputs.map(([reporter, out]) => {
  const feed = new PassThrough({ objectMode: true });
  feed.compose(reporter).pipe(out);
  return feed;
});
stream.on('data', (event) => feeds.forEach((f) => f.write(event)));
stream.on('end', () => {
  feeds.forEach((f) => f.end());
  fs.rmSync(template, { recursive: true, force: true });
});
