#!/usr/bin/env node
// `npm test`'s runner: node:test over every dist/**/*.test.js, as `node --test dist/` would run
// them, but the slowest files first, so that a long file does not start last and leave the other
// workers idle at the end (node --test starts files in alphabetical order). Which files are slow
// is in SLOW_FIRST below (measured: see the "testspeed" commits); a file not listed runs after
// them, alphabetically; a listed file that no longer exists is skipped.
// Three files at a time by default (each file's tests run one after another): on 2 cores the
// builds are CPU-bound (builder/ took 137 s with 2 and with 3), but the store's and registry's
// files wait on I/O and servers (89 s with 2, 78 s with 3, 2026-12-06), and every file's own
// process start (~430 files) overlaps better. Four at a time gave nothing more (clean-clone CI,
// 2026-12-07: 563 s against 556 and 579 s with three): the suite is CPU-bound on two cores.
//   node scripts/test.mjs [--concurrency N] [--reporter FILE.mjs --destination FILE] [PATH...]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The slowest test files (dist-relative), slowest first: every file of 7 s or more in the
 * clean-clone CI run of 594990d (the sum of its top-level durations, in seconds, three files at
 * a time on 2 cores: 607 s), less what the testspeed2 commits took off where it is much, so that
 * the files left to run alphabetically after them are all short. engine/readme-example (17 s
 * there) left the list: its type check now reads dist/index.d.ts.
 */
const SLOW_FIRST = [
  'builder/faults.e2e.test.js', // 105
  'cli/containers-flags.test.js', // 96, some 86 with 8 containers and 5 s of sleep fewer
  'cli/networks.test.js', // 82, some 67 since rm -f no longer waits 10 s for a zombie CLI
  'cli/networks-qa.test.js', // 45 (clean-clone CI of 8a0422f, where it started 149th)
  'cli/containers.test.js', // 55 in two describes
  'builder/faults-large.e2e.test.js', // 54
  'runtime/commit-faults.e2e.test.js', // 52
  'store/archive/faults.e2e.test.js', // 49
  'cli/lifecycle-more.test.js', // 46
  'registry/pull-push.test.js', // 42
  'cli/images.test.js', // 42 in twelve top-level tests, some 39 with a 40 MiB import
  'cli/lifecycle.test.js', // 41
  'cli/cp-shapes.test.js', // 41
  'builder/build.e2e.test.js', // 36
  'builder/explain.e2e.test.js', // 34
  'builder/conformance-copy.test.js', // 32
  'cli/networks-crash.test.js', // 30
  'cli/containers-update.test.js', // 34, some 28 without its two fixed sleeps
  'cli/system.test.js', // 27
  'builder/dockerfile-qa.e2e.test.js', // 26
  'builder/conformance.test.js', // 25
  'engine/registry-cache.e2e.test.js', // 25
  'cli/remote.e2e.test.js', // 24
  'builder/platform.e2e.test.js', // 22
  'cli/concurrency.e2e.test.js', // 21
  'cli/health.test.js', // 22, some 20
  'engine/many-builders.e2e.test.js', // 20
  'registry/bad-input.test.js', // 18
  'registry/auth.test.js', // 18
  'cli/nospace.e2e.test.js', // 17
  'cli/cp-stream.test.js', // 16
  'cli/volume-crash.test.js', // 16
  'engine/op-leases.e2e.test.js', // 15
  'cli/containers-shape.test.js', // 15
  'cli/remove-race.test.js', // 15
  'cli/network-temps-crash.test.js', // 14
  'cli/containers-logs.test.js', // 13
  'registry/names.test.js', // 13
  'builder/flags.e2e.test.js', // 13
  'store/layer-packed.test.js', // 13
  'cli/system-commands.test.js', // 13
  'cli/user-groups.test.js', // 13
  'cli/restart-policy.test.js', // 12
  'cli/volume-options.test.js', // 12 (CI of 8a0422f)
  'builder/cache-mount-from.e2e.test.js', // 10 (CI of 8a0422f)
  'cli/image-lease.e2e.test.js', // 12
  'cli/commit-changes.test.js', // 12
  'cli/main.test.js', // 11
  'cli/events.test.js', // 11
  'cli/stop-race.test.js', // 10
  'cli/create-lease.e2e.test.js', // 10
  'builder/git-source.test.js', // 10
  'cli/image-tree.test.js', // 9
  'builder/output.e2e.test.js', // 9
  'runtime/rootfs-faults.e2e.test.js', // 9
  'cli/closed-pipe.test.js', // 9
  'cli/run-rm-crash.test.js', // 8 (CI of 8a0422f)
  'cli/early-shim.test.js', // 8 (CI of 8a0422f)
  'cli/usage-errors.test.js', // 7 (CI of 8a0422f)
  'registry/passing-failures.test.js', // 9
  'cli/build-network.test.js', // 12, some 8 with 2 containers instead of 8
  'registry/round-trips.test.js', // 8
  'cli/damaged-container.test.js', // 8
  'cli/volume-keep.test.js', // 8
  'runtime/ulimits.test.js', // 8
  'registry/push-stream.test.js', // 8
  'engine/cache-ahead.e2e.test.js', // 8
  'cli/signals.e2e.test.js', // 7
  'store/copier/put.test.js', // 7
];

function parseArgs(argv) {
  const o = { concurrency: 3, reporter: undefined, destination: undefined, paths: [] };
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

// NODE_EXTRA_CA_CERTS (this machine's environment names the system CA bundle) is parsed by
// Node 20 at every start, TLS or not: some 40 ms of CPU in each test file's process and in every
// `strata` a test starts (tests start node on dist/cli/start.cjs, not bin/strata, which defers it
// itself). Deferred here as bin/strata does (STRATA_DEFERRED_CA_CERTS, which strata puts back in
// its environment and reads for its own https requests): one file here, lifecycle-more, took
// 24.5 → 20.6 s, its user CPU 14.4 → 10.5 s.
if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.STRATA_DEFERRED_CA_CERTS ??= process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
}

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
