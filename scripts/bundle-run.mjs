// Bundles the `run` command's code path (dist/cli/run-main.js and what it imports) into one
// CommonJS file, dist/cli/run-bundle.cjs, with esbuild, so `strata run` loads one minified file
// instead of resolving, linking and compiling some thirty ESM modules (issue 3, point 8: start
// latency). Run by `npm run build` after tsc. start.cjs (the `strata` entry) compiles it with a
// V8 code cache when it is newer than the last tsc build (dist/.tsbuildinfo); its dynamic
// import()s become calls of `__import`, which start.cjs provides (a script compiled from a code
// cache cannot import() by itself).
//
// Kept outside the bundle, loaded with import() from the unbundled dist/ files when needed:
// - modules that locate sibling files through import.meta.url (the shim's entry, the port
//   relay's helpers, the hash workers);
// - what `run --rm` does not need (ports, the shim path of -p, layer packing);
// - npm packages (resolved from node_modules as usual).
// The bundle has its own copy of StrataError; run-main.ts reports the other copy's errors too.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const outfile = path.join(dist, 'cli', 'run-bundle.cjs');
const EXTERNAL = [
  'runtime/shim-client.js', 'runtime/ports-forward.js', 'hash/pool.js',
  'cli/lifecycle.js', 'runtime/ports.js', 'store/layer-pack.js', 'store/layer-unpack.js',
].map((f) => path.join(dist, f));

/** Keeps EXTERNAL modules out, imported by their path relative to the bundle's directory. */
const keepExternal = {
  name: 'keep-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      if (!EXTERNAL.includes(target) || args.importer === '') return undefined;
      const rel = path.relative(path.dirname(outfile), target);
      return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
    });
  },
};

// Written beside, then renamed over, so a `strata run` started meanwhile reads a whole file.
const staging = `${outfile}.tmp-${process.pid}`;
try {
  await build({
    entryPoints: [path.join(dist, 'cli', 'run-main.js')],
    outfile: staging,
    bundle: true,
    minify: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    plugins: [keepExternal],
    logLevel: 'warning',
  });
  // require() cannot load our ESM files: every external must stay a dynamic import().
  const text = fs.readFileSync(staging, 'utf8');
  const required = text.match(/require\("\.{1,2}\/[^"]*"\)/g);
  if (required) throw new Error(`bundle-run: static imports of external modules: ${required.join(', ')}`);
  const rewritten = text.replace(/\bimport\((?=")/g, '__import(');
  const left = rewritten.match(/\bimport\(/g);
  if (left) throw new Error(`bundle-run: ${left.length} dynamic import() calls without a string specifier`);
  fs.writeFileSync(staging, rewritten);
  fs.renameSync(staging, outfile);
  fs.rmSync(`${outfile}.v8cache`, { force: true });
} finally {
  fs.rmSync(staging, { force: true });
}
fs.rmSync(path.join(dist, 'cli', 'run-bundle'), { recursive: true, force: true }); // the earlier ESM bundle
