// Bundles the `run` command's code path (dist/cli/containers-run.js and what it imports) into
// dist/cli/run-bundle/ with esbuild, so `strata run` loads a few minified files instead of
// resolving, reading and compiling some thirty ESM modules (issue 3, point 8: start latency).
// Run by `npm run build` after tsc. main.js uses the bundle only when it is newer than the
// last tsc build (dist/.tsbuildinfo); otherwise it loads the unbundled modules.
//
// Kept outside the bundle, as imports of the unbundled dist/ files:
// - errors.js: StrataError's class identity (`instanceof` in report.js and elsewhere);
// - modules that locate sibling files through import.meta.url (the shim's entry, the port
//   relay's helpers, the hash workers);
// - npm packages (resolved from node_modules as usual).
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const outdir = path.join(dist, 'cli', 'run-bundle');
const SHARED = ['errors.js', 'runtime/shim-client.js', 'runtime/ports-forward.js', 'hash/pool.js'];
// Off the `run --rm` path (ports, detached shims, layer packing): loaded from dist/ when needed,
// so the bundle stays one small file.
const LAZY = ['cli/lifecycle.js', 'runtime/ports.js', 'store/layer-pack.js', 'store/layer-unpack.js'];
const EXTERNAL = [...SHARED, ...LAZY].map((f) => path.join(dist, f));

/** Keeps SHARED modules external, imported by their path relative to the bundle's directory. */
const keepShared = {
  name: 'keep-shared',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      if (!EXTERNAL.includes(target) || args.importer === '') return undefined;
      return { path: `./${path.relative(outdir, target)}`, external: true };
    });
  },
};

// Built beside, then swapped in, so a `strata run` started meanwhile finds a whole bundle or none.
const staging = `${outdir}.tmp-${process.pid}`;
const retired = `${outdir}.old-${process.pid}`;
fs.rmSync(staging, { recursive: true, force: true });
try {
  await build({
    entryPoints: [path.join(dist, 'cli', 'containers-run.js')],
    outdir: staging,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    plugins: [keepShared],
    logLevel: 'warning',
  });
  if (fs.existsSync(outdir)) fs.renameSync(outdir, retired);
  fs.renameSync(staging, outdir);
} finally {
  fs.rmSync(staging, { recursive: true, force: true });
  fs.rmSync(retired, { recursive: true, force: true });
}
