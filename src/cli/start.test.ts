// start.cjs, the `strata` entry: `run` from its bundle through a V8 code cache that is made for
// that very bundle file, survives a bad cache, and is then reused rather than rewritten.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import url from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { OFFLINE, repoRoot, runStrata, tempDir } from '../testing/cli.js';

const bundle = path.join(repoRoot, 'dist', 'cli', 'run-bundle.cjs');
const cacheFile = `${bundle}.v8cache`; // run's own cache (start.cts)
const underTsx = import.meta.url.endsWith('.ts');

function stampOf(file: string): string {
  const st = fs.statSync(file);
  return `${st.size}:${st.mtimeMs}:${st.ino}\n`;
}

describe('start.cjs: `run` through the bundle and its code cache', { skip: (underTsx || !fs.existsSync(bundle)) && 'needs `npm run build`' }, () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;

  before(async () => {
    t = tempDir('strata-start-');
    root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
  });
  after(() => t.cleanup());

  it('replaces a cache V8 rejects, then reuses the one it wrote', () => {
    const stamp = stampOf(bundle);
    const garbage = Buffer.alloc(4096, 0x5a);
    fs.writeFileSync(cacheFile, Buffer.concat([Buffer.from(stamp, 'latin1'), garbage]));
    const first = runStrata(['run', '--rm', 'busybox', 'sh', '-c', 'echo first; exit 3'], { root });
    assert.equal(first.status, 3, first.stderr);
    assert.equal(first.stdout, 'first\n');
    const written = fs.readFileSync(cacheFile);
    assert.equal(written.subarray(0, stamp.length).toString('latin1'), stamp);
    assert.ok(!written.subarray(stamp.length).equals(garbage), 'the rejected cache was rewritten');

    // (Other test files run `run` meanwhile and may rewrite the cache too: ask the run itself.)
    const second = runStrata(['run', '--rm', 'busybox', 'echo', 'second'], { root, env: { STRATA_DEBUG_CODE_CACHE: '1' } });
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, 'second\n');
    assert.match(second.stderr, /^code cache: accepted$/m);
  });

  it('ignores a cache made for another bundle file', () => {
    fs.writeFileSync(cacheFile, Buffer.concat([Buffer.from('1:2:3\n', 'latin1'), Buffer.alloc(64)]));
    const ran = runStrata(['run', '--rm', 'busybox', 'echo', 'ok'], { root });
    assert.equal(ran.status, 0, ran.stderr);
    assert.equal(ran.stdout, 'ok\n');
    assert.equal(fs.readFileSync(cacheFile).subarray(0, stampOf(bundle).length).toString('latin1'), stampOf(bundle));
  });

  it('keeps node:crypto out of the run bundle (loading it costs every start several ms)', () => {
    const text = fs.readFileSync(bundle, 'utf8');
    assert.doesNotMatch(text, /require\("node:crypto"\)/);
  });

  it('loads neither the builder\'s core, the Dockerfile parser nor the registry client for ps, images, inspect, rm and network ls', () => {
    // main.js as ES modules, a loader hook naming every module of dist/ loaded: the static graph
    // that the CLI bundle initialises is the same (its modules run when their importer does).
    const dist = path.join(repoRoot, 'dist');
    const log = path.join(t.dir, 'modules.log');
    const hooks = path.join(t.dir, 'hooks.mjs');
    fs.writeFileSync(hooks, `import fs from 'node:fs';\nexport async function load(u, context, next) {\n  if (u.startsWith('file:')) fs.appendFileSync(${JSON.stringify(log)}, u + '\\n');\n  return next(u, context);\n}\n`);
    const register = path.join(t.dir, 'register.mjs');
    fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(url.pathToFileURL(hooks).href)});\n`);
    assert.equal(runStrata(['create', '--name', 'lazy-gone', 'busybox'], { root }).status, 0);
    for (const args of [['ps', '-a'], ['images'], ['inspect', 'busybox'], ['rm', '-f', 'lazy-gone'], ['network', 'ls']]) {
      fs.rmSync(log, { force: true });
      const ran = spawnSync(process.execPath, ['--import', register, path.join(dist, 'cli', 'main.js'), ...args], { env: { ...OFFLINE, ...process.env, STRATA_ROOT: root }, encoding: 'utf8' });
      assert.equal(ran.status, 0, `${args.join(' ')}: ${ran.stderr}`);
      const loaded = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((u) => path.relative(dist, url.fileURLToPath(u)));
      assert.ok(loaded.includes('engine/index.js'), `${args.join(' ')}: the hook saw ${loaded.length} modules`);
      const core = ['build', 'executor', 'planner', 'prepare', 'stage-state', 'output', 'context'].map((f) => `builder/${f}.js`);
      const unused = loaded.filter((f) => /^(parser|registry|net)\//.test(f) || core.includes(f));
      assert.deepEqual(unused, [], `loaded by \`strata ${args.join(' ')}\``);
    }
  });

  it('runs every other command through main.js, loading the parser\'s and tar\'s packages only when used', () => {
    // A preload that names, at exit, the packages required from node_modules and the built-ins loaded.
    const preload = path.join(t.dir, 'loaded.cjs');
    fs.writeFileSync(preload, `process.on('exit', () => process.stderr.write('loaded: ' + JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('node_modules')).map((f) => f.split('node_modules/').pop().split('/')[0])) + ' ' + JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))) + '\\n'));\n`);
    const listed = runStrata(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root, env: { NODE_OPTIONS: `--require ${preload}` } });
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /busybox:latest/);
    const [packages, builtins] = /^loaded: (\[.*\]) (\[.*\])$/m.exec(listed.stderr)!.slice(1).map((l) => JSON.parse(l) as string[]);
    for (const unused of ['moo', 'nearley', 'tar']) assert.ok(!packages.includes(unused), `${unused} loaded by \`images\`: ${packages.join(', ')}`);
    for (const unused of ['crypto', 'assert', 'child_process']) assert.ok(!builtins.includes(unused), `node:${unused} loaded by \`images\``);
    const unknown = runStrata(['frobnicate'], { root });
    assert.equal(unknown.status, 125);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});
