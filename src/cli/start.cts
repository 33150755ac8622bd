// The `strata` command's entry (bin/strata starts Node on it). It is CommonJS on purpose:
// `strata run`, whose start-up latency is a target (issue 3), then loads one bundle of its code
// (dist/cli/run-bundle.cjs, see scripts/bundle-run.mjs) through a V8 code cache and never
// initializes Node's ES module loader, which alone costs some 15 ms. Every other command goes
// on to main.js, the ES module entry (also usable directly as `node dist/cli/main.js`).
import fs = require('node:fs');
import path = require('node:path');
import url = require('node:url');
import vm = require('node:vm');

const EXTRA_CA_CERTS_DEFERRED = Symbol.for('strata.extraCaCertsDeferred');

/**
 * bin/strata starts Node without NODE_EXTRA_CA_CERTS (Node 20 parses that file at every start,
 * TLS or not) and hands it on as STRATA_DEFERRED_CA_CERTS: it goes back into the environment
 * (for `-e NAME`, `--build-arg NAME`, child processes), and src/net/fetch.ts loads the file
 * itself when it makes an https request.
 */
function restoreDeferredCaCerts(): void {
  const deferred = process.env.STRATA_DEFERRED_CA_CERTS;
  if (deferred === undefined) return;
  delete process.env.STRATA_DEFERRED_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = deferred;
  (globalThis as Record<symbol, unknown>)[EXTRA_CA_CERTS_DEFERRED] = deferred;
}

type RunMain = (argv: string[]) => Promise<void>;
type BundleExports = { runMain?: RunMain; registryMain?: (argv: string[]) => Promise<boolean>; buildMain?: (argv: string[]) => Promise<boolean> };

/** The wrapper Node puts around a CommonJS module, plus `__import` for the bundle's dynamic imports. */
const WRAP = ['(function (exports, require, module, __filename, __dirname, __import) {', '\n})'];

/**
 * Runs a bundle (its top level) and returns its exports, compiled with the code cache beside it
 * when that cache was made for this very file (its size, mtime and inode are the cache's first
 * line); undefined when the bundle is missing or stale. The cache is
 * (re)written after the command, from the functions this run compiled.
 */
function loadBundle(name: string, cacheName: string): BundleExports | undefined {
  const file = path.join(__dirname, name);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat || isStale(file, stat.mtimeMs)) return undefined;
  const cacheFile = path.join(__dirname, cacheName);
  const stamp = `${stat.size}:${stat.mtimeMs}:${stat.ino}\n`;
  let cachedData: Buffer | undefined;
  try {
    const cache = fs.readFileSync(cacheFile);
    if (cache.subarray(0, stamp.length).toString('latin1') === stamp) cachedData = cache.subarray(stamp.length);
  } catch {
    // no cache yet
  }
  const script = new vm.Script(WRAP[0] + fs.readFileSync(file, 'utf8') + WRAP[1], { filename: file, cachedData });
  if (process.env.STRATA_DEBUG_CODE_CACHE) {
    process.stderr.write(`code cache: ${!cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted'}\n`);
  }
  if (!cachedData || script.cachedDataRejected) {
    process.once('exit', () => writeCache(cacheFile, stamp, script));
  }
  const mod = { exports: {} as BundleExports };
  // Relative specifiers are the bundle's external modules (ES modules in dist/), node: ones built-ins.
  const importFromBundle = (specifier: string) =>
    import(specifier.startsWith('.') ? url.pathToFileURL(path.resolve(__dirname, specifier)).href : specifier);
  (script.runInThisContext() as (...args: unknown[]) => void)(mod.exports, require, mod, file, __dirname, importFromBundle);
  return mod.exports;
}

/**
 * A bundle is stale when a dist/ file it was made from (its `.inputs` list, written by
 * scripts/bundle-cli.mjs) is newer: a plain `tsc` ran after `npm run build`. Some fifty stats,
 * a fraction of a millisecond; `tsc --noEmit` touches none of them.
 */
function isStale(file: string, builtMs: number): boolean {
  let inputs: string[];
  try {
    inputs = JSON.parse(fs.readFileSync(`${file}.inputs`, 'utf8')) as string[];
  } catch {
    return true;
  }
  const dir = path.dirname(file);
  return inputs.some((f) => (fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) > builtMs);
}

/** Best effort: a read-only install or a full disk only means the next start compiles again. */
function writeCache(cacheFile: string, stamp: string, script: vm.Script): void {
  const staging = `${cacheFile}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(staging, Buffer.concat([Buffer.from(stamp, 'latin1'), script.createCachedData()]));
    fs.renameSync(staging, cacheFile);
  } catch {
    fs.rmSync(staging, { force: true });
  }
}

/**
 * A reader that went away (`strata images | head -1`, `strata logs -f c | head -1`) ends the
 * command quietly, as a write to a closed pipe ends docker (SIGPIPE: exit 141), instead of
 * Node's "Unhandled 'error' event" and its stack. Code that handles the stream's errors itself
 * (cp's and export's pipelines, which release their mounts first) is left to do so.
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (stream.listenerCount('error') > 1) return;
    if (err.code === 'EPIPE' || stream === process.stderr) process.exit(128 + 13);
    process.stderr.write(`Error: writing the output: ${err.message}\n`);
    process.exit(125);
  });
}

function start(): void {
  restoreDeferredCaCerts();
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  const argv = process.argv.slice(2);
  const runMain = argv[0] === 'run' && !process.env.STRATA_HOST ? loadBundle('run-bundle.cjs', 'run-bundle.cjs.v8cache')?.runMain : undefined;
  if (runMain) {
    void runMain(argv.slice(1));
    return;
  }
  // pull and push with a plain command line: the registry bundle, without yargs (cli/registry-main.ts).
  const registryMain = argv[0] === 'pull' || argv[0] === 'push' ? loadBundle('registry-bundle.cjs', `registry-bundle.cjs.${argv[0]}.v8cache`)?.registryMain : undefined;
  if (registryMain) {
    void registryMain(argv).then((handled) => handled || startCli(argv));
    return;
  }
  // build with a plain command line: the build bundle, without yargs (cli/build-main.ts).
  const buildMain = argv[0] === 'build' && !process.env.STRATA_HOST ? loadBundle('build-bundle.cjs', 'build-bundle.cjs.v8cache')?.buildMain : undefined;
  if (buildMain) {
    void buildMain(argv).then((handled) => handled || startCli(argv));
    return;
  }
  startCli(argv);
}

function startCli(argv: string[]): void {
  // One code cache per command: each compiles a different part of the bundle.
  const command = /^[a-z]{1,20}$/.test(argv[0] ?? '') ? argv[0] : 'other';
  // main.js, bundled or not, runs the command line when it is loaded.
  if (!loadBundle('cli-bundle.cjs', `cli-bundle.cjs.${command}.v8cache`)) void import(url.pathToFileURL(path.join(__dirname, 'main.js')).href);
}

start();
