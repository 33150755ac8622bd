// The `strata` command's entry (bin/strata starts Node on it). It is CommonJS on purpose:
// `strata run`, whose start-up latency is a target (issue 3), then loads one bundle of its code
// (dist/cli/run-bundle.cjs, see scripts/bundle-run.mjs) through a V8 code cache and never
// initializes Node's ES module loader, which alone costs some 15 ms. Every other command goes
// on to main.js, the ES module entry (also usable directly as `node dist/cli/main.js`).
import fs = require('node:fs');
import path = require('node:path');
import url = require('node:url');
import bundles = require('../bundle-load.cjs');

const { loadBundleIn } = bundles;

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

function loadBundle(name: string, cacheName: string): BundleExports | undefined {
  return loadBundleIn(__dirname, name, cacheName) as BundleExports | undefined;
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

/**
 * quietOnClosedPipe for process[NAME] from the moment something first uses it. Node makes the
 * stream on first use (a pipe's is a net.Socket: its modules loaded, some 5-15 ms here); a
 * command that never writes to it (`run` of a container that writes to our fds itself) does not
 * pay for it.
 */
function quietOnClosedPipeWhenUsed(name: 'stdout' | 'stderr'): void {
  const own = Object.getOwnPropertyDescriptor(process, name);
  if (!own?.get || !own.configurable) {
    quietOnClosedPipe(process[name]);
    return;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: own.enumerable,
    get() {
      Object.defineProperty(process, name, own);
      const stream = process[name];
      quietOnClosedPipe(stream);
      return stream;
    },
  });
}

function start(): void {
  restoreDeferredCaCerts();
  quietOnClosedPipeWhenUsed('stdout');
  quietOnClosedPipeWhenUsed('stderr');
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
