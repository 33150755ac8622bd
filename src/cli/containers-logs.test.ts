// `logs` of a container that ran in the foreground: its output went to the terminal and to its
// json-file log, as with Docker. Real runc, a private state root.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { waitStopped } from '../testing/faults.js';

const root = tempDir('strata-fglogs-');
const s = (args: string[]) => runStrata(args, { root: root.dir });
before(async () => {
  await ensureBusybox(await openStore(root.dir));
});
after(() => root.cleanup());

test('logs shows what a foreground container printed, streams kept apart', () => {
  const run = s(['run', '--name', 'fg', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2; printf tail']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'out1\ntail', 'the terminal still gets the output');
  assert.equal(run.stderr, 'err1\n');
  const logs = s(['logs', 'fg']);
  assert.equal(logs.status, 0, logs.stderr);
  assert.equal(logs.stdout, 'out1\ntail');
  assert.equal(logs.stderr, 'err1\n');
  assert.match(s(['logs', '-t', '--tail', '1', 'fg']).stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z tail$/);
});

test('logs --details prefixes each line with the json-file log\'s attributes (--log-opt labels, env, tag), as Docker\'s', () => {
  // None asked for: a lone space before each line.
  assert.equal(s(['logs', '--details', 'fg']).stdout, ' out1\n tail');
  const run = s(['run', '--name', 'detailed', '-l', 'app=web shop', '-l', 'tier=front', '-e', 'REGION=eu', '-e', 'OTHER=x',
    '--log-opt', 'labels=app,missing', '--log-opt', 'env=REGION', '--log-opt', 'tag={{.Name}}/{{.ID}}',
    '--log-opt', 'labels-regex=^ti', '--log-opt', 'env-regex=^OTH', 'busybox', 'echo', 'hi']);
  assert.equal(run.status, 0, run.stderr);
  const id = s(['inspect', '-f', '{{.Id}}', 'detailed']).stdout.slice(0, 12);
  // labels-regex and env-regex add the labels and variables whose names match (tier, OTHER).
  assert.equal(s(['logs', '--details', 'detailed']).stdout, `OTHER=x,REGION=eu,app=web+shop,tag=detailed%2F${id},tier=front hi\n`);
  assert.match(s(['logs', '--details', '-t', 'detailed']).stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z OTHER=x,REGION=eu,app=web\+shop,tag=\S+,tier=front hi\n$/);
  assert.equal(s(['logs', 'detailed']).stdout, 'hi\n');
});

test('a --rm container leaves no log behind', () => {
  const run = s(['run', '--rm', '--name', 'gone', 'busybox', 'echo', 'hi']);
  assert.equal(run.stdout, 'hi\n', run.stderr);
  const logs = s(['logs', 'gone']);
  assert.equal(logs.stderr, 'Error: no such container: "gone"\n');
  assert.equal(logs.status, 125);
});

test('--log-opt max-size/max-file/compress rotates a detached container\'s log into .gz files; --log-driver none keeps nothing', async () => {
  const script = 'i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done';
  const run = s(['run', '-d', '--name', 'rotated', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', '--log-opt', 'compress=true', 'busybox', 'sh', '-c', script]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(s(['wait', 'rotated']).stdout, '0\n');
  const [shown, logPath] = s(['inspect', '-f', '{{json .HostConfig.LogConfig}}\n{{.LogPath}}', 'rotated']).stdout.trim().split('\n');
  assert.deepEqual(JSON.parse(shown!), { Type: 'json-file', Config: { 'max-size': '2k', 'max-file': '3', compress: 'true' } });
  const { existsSync, readdirSync, readFileSync, statSync } = await import('node:fs');
  const { gunzipSync } = await import('node:zlib');
  const { basename, dirname } = await import('node:path');
  // As Docker's json-file: <id>-json.log, <id>-json.log.1.gz, <id>-json.log.2.gz, the rotated ones gzip.
  const name = basename(logPath!);
  assert.deepEqual(readdirSync(dirname(logPath!)).filter((f) => f.startsWith(name)).sort(), [name, `${name}.1.gz`, `${name}.2.gz`]);
  for (const f of [`${logPath}.1.gz`, `${logPath}.2.gz`]) assert.ok(gunzipSync(readFileSync(f)).length <= 2048, f);
  assert.ok(statSync(logPath!).size <= 2048);
  const lines = s(['logs', 'rotated']).stdout.trimEnd().split('\n');
  const first = Number(/^line-(\d+)$/.exec(lines[0]!)![1]);
  assert.ok(first > 0, 'the oldest lines went with the oldest file');
  assert.deepEqual(lines, Array.from({ length: 300 - first }, (_, i) => `line-${first + i}`));
  assert.equal(s(['rm', 'rotated']).status, 0);

  assert.equal(s(['run', '-d', '--name', 'quiet', '--log-driver', 'none', 'busybox', 'echo', 'hidden']).status, 0);
  assert.equal(s(['wait', 'quiet']).stdout, '0\n');
  const logs = s(['logs', 'quiet']);
  assert.deepEqual([logs.status, logs.stderr], [125, 'Error: configured logging driver does not support reading\n']);
  const quietLog = s(['inspect', '-f', '{{.LogPath}}', 'quiet']).stdout.trim();
  assert.ok(!existsSync(quietLog) || statSync(quietLog).size === 0, 'nothing written');
  assert.equal(s(['rm', 'quiet']).status, 0);
  const bad = s(['run', '--rm', '--log-driver', 'syslog', 'busybox', 'true']);
  assert.deepEqual([bad.status, bad.stderr], [125, 'Error: logging driver "syslog" is not supported: strata supports json-file, local, none\n']);
});

test('logs started while the log rotates (into .gz files too) shows every line once', async () => {
  const { spawnStrata } = await import('../testing/cli.js');
  const fs = await import('node:fs');
  assert.equal(s(['run', '-d', '--name', 'turning', '--log-opt', 'max-size=1m', '--log-opt', 'max-file=3', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line-$i; done']).status, 0);
  assert.equal(s(['wait', 'turning']).stdout, '0\n');
  const logPath = s(['inspect', '-f', '{{.LogPath}}', 'turning']).stdout.trim();
  const entry = (log: string) => `${JSON.stringify({ log, stream: 'stdout', time: new Date().toISOString() })}\n`;
  /** `logs` stopped once it holds the current file; then ROTATE turns the files as the shim would; what it printed. */
  const logsWhile = async (rotate: () => void) => {
    const child = spawnStrata(['logs', 'turning'], { root: root.dir, env: { STRATA_FAILPOINT: 'logs.opened:stop' } });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const closed = new Promise((r) => child.on('close', r));
    await waitStopped(child.pid!, 'logs stopped at logs.opened');
    rotate();
    child.kill('SIGCONT');
    await closed;
    return out;
  };
  const out = await logsWhile(() => {
    fs.renameSync(logPath, `${logPath}.1`);
    fs.writeFileSync(logPath, entry('after\n'));
  });
  assert.equal(out, 'line-1\nline-2\nline-3\nline-4\nline-5\nafter\n');
  // With compress: the held file becomes FILE.1.gz (FILE.1 gone), found among the .gz by its bytes, read once.
  const { gzipSync } = await import('node:zlib');
  const gzipAway = (from: string, to: string) => {
    fs.writeFileSync(to, gzipSync(fs.readFileSync(from)));
    fs.rmSync(from);
  };
  const zipped = await logsWhile(() => {
    gzipAway(`${logPath}.1`, `${logPath}.2.gz`);
    fs.renameSync(logPath, `${logPath}.1`);
    gzipAway(`${logPath}.1`, `${logPath}.1.gz`);
    fs.writeFileSync(logPath, entry('after2\n'));
  });
  assert.equal(zipped, 'line-1\nline-2\nline-3\nline-4\nline-5\nafter\nafter2\n');
  assert.equal(s(['rm', 'turning']).status, 0);
});
