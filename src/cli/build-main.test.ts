// The build bundle (cli/build-main.ts): plain build lines are parsed as yargs would; anything
// else is left to the full CLI, which then parses it (help, combined flags). Through the
// `strata` command, a build runs from the bundle, with its code cache, and yargs and the
// registry client are not in it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { repoRoot, runStrata, tempDir } from '../testing/cli.js';
import { parseBuildLine } from './build-main.js';

test('plain build lines', () => {
  assert.deepEqual(parseBuildLine(['-q', '-t', 'a:1', '--tag=b', '.']), {
    context: '.', quiet: true, tag: ['a:1', 'b'], 'build-arg': undefined, 'no-cache-filter': undefined, label: undefined, secret: undefined, ssh: undefined,
    output: undefined, platform: undefined, 'cache-from': undefined, 'cache-to': undefined,
  });
  const a = parseBuildLine(['ctx', '--build-arg', 'A=1', '--build-arg=B=2', '-f', 'x/Dockerfile', '--no-cache', '--push', '--platform', 'linux/arm64,linux/amd64',
    '-o', 'type=local,dest=out', '--cache-from', 'r/c', '--cache-to=type=local,dest=d', '--progress=plain', '--network', 'none', '--load', '--target', 'final']);
  assert.ok(a);
  assert.equal(a.context, 'ctx');
  assert.deepEqual(a['build-arg'], ['A=1', 'B=2']);
  assert.equal(a.file, 'x/Dockerfile');
  assert.equal(a['no-cache'], true);
  assert.equal(a.push, true);
  assert.deepEqual(a.platform, ['linux/arm64,linux/amd64']);
  assert.deepEqual(a.output, ['type=local,dest=out']);
  assert.deepEqual(a['cache-from'], ['r/c']);
  assert.deepEqual(a['cache-to'], ['type=local,dest=d']);
  assert.equal(a.progress, 'plain');
  assert.equal(a.network, 'none');
  assert.equal(a.target, 'final');
  // A lone "-" is the context (stdin).
  assert.equal(parseBuildLine(['-q', '-'])?.context, '-');
});

test('anything unusual goes to the full CLI', () => {
  for (const args of [
    ['--help', '.'], ['-h'], ['-qt', 'x', '.'], [], ['a', 'b'], ['--push', 'true', '.'], ['--quiet=true', '.'], ['-t'], ['-t', '-q', '.'],
    ['--target', 'a', '--target', 'b', '.'], ['--unknown', '.'], ['--', '.'], ['-f', '-', '-'], ['-t=x', '.'], [''], ['--tag=', '.'],
  ]) assert.equal(parseBuildLine(args), undefined, args.join(' '));
});

const bundle = path.join(repoRoot, 'dist', 'cli', 'build-bundle.cjs');
const underTsx = import.meta.url.endsWith('.ts');

describe('strata build through the build bundle', { skip: (underTsx || !fs.existsSync(bundle)) && 'needs `npm run build`' }, () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;
  before(async () => {
    t = tempDir('strata-build-main-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    ctx = path.join(t.dir, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY Dockerfile /d\n');
  });
  after(() => t.cleanup());

  it('builds from the bundle, then with its code cache', () => {
    const env = { STRATA_DEBUG_CODE_CACHE: '1', STRATA_TIMING: '1' };
    const first = runStrata(['build', '-q', '-t', 'bundled:1', ctx], { root, env });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.match(first.stderr, /^timing: build bundle loaded /m);
    const second = runStrata(['build', '-q', '-t', 'bundled:1', ctx], { root, env });
    assert.equal(second.stdout, first.stdout);
    // (Other test files build meanwhile and may rewrite the cache: only that it was read.)
    assert.match(second.stderr, /^code cache: (accepted|rejected)$/m);
  });

  it('leaves help, combined flags and errors to the full CLI, with its wording', () => {
    const help = runStrata(['build', '--help'], { root });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--cache-from/);
    const combined = runStrata(['build', '-qt', 'combined:1', ctx], { root });
    assert.equal(combined.status, 0, combined.stderr);
    const unknown = runStrata(['build', '--frobnicate', ctx], { root });
    assert.equal(unknown.status, 125);
    // Docker's wording: the unknown flag is named (yargs alone took CONTEXT as its value and said an argument was missing).
    assert.match(unknown.stderr, /^Error: unknown flag: --frobnicate$/m);
    // An error of the build itself, from the bundle: one line, exit 125 for strata's own.
    const push = runStrata(['build', '--push', ctx], { root });
    assert.equal(push.status, 125);
    assert.equal(push.stderr, 'Error: --push needs a name to push to: -t REGISTRY/REPOSITORY[:TAG]\n');
  });

  it('keeps yargs and the registry client out of the bundle', () => {
    const text = fs.readFileSync(bundle, 'utf8');
    assert.doesNotMatch(text, /yargs/);
    assert.doesNotMatch(text, /WWW-Authenticate|www-authenticate/i, 'the registry client (auth) is in the build bundle');
  });
});
