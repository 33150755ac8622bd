// Bundles the CLI's code into CommonJS files with esbuild, run by `npm run build` after tsc:
// - dist/cli/run-bundle.cjs: `strata run` (dist/cli/run-main.js and what it imports), the
//   command whose start-up latency is a target (issue 3, point 8);
// - dist/cli/cli-bundle.cjs: every other command (dist/cli/main.js, yargs kept outside);
// - dist/cli/registry-bundle.cjs: `strata pull` / `strata push` with plain flags (no yargs);
// - dist/cli/build-bundle.cjs: `strata build` with plain flags (no yargs), its warm path only:
//   the shared-cache code and the registry client are loaded from dist/ when a build uses them.
// start.cjs (the `strata` entry) compiles the one it needs with a V8 code cache, when it is newer
// than every dist/ file it was made from (listed beside it, BUNDLE.inputs), instead of resolving,
// linking and compiling dozens of ES modules. The bundles' dynamic import()s become calls of `__import`, which start.cjs
// provides (a script compiled from a code cache cannot import() by itself).
//
// Kept outside, loaded with import() from the unbundled dist/ files when needed:
// - modules that locate sibling files through import.meta.url (the shim's entry, the port
//   relay's helpers, the hash workers);
// - for the run bundle, what `run --rm` does not need (ports, the shim path of -p, layer packing,
//   the builder and parser that `commit -c` loads, the Containers service's other commands);
// - npm packages (resolved from node_modules as usual).
// Each bundle has its own copy of StrataError: errors are told apart by name (report.ts).
import { build } from 'esbuild';
import fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const SIBLING_LOCATORS = ['runtime/shim/client.js', 'runtime/ports-forward.js', 'runtime/net/dns/control.js', 'hash/pool.js'];
// What a build loads only when it uses it: shared caches (and the registry client under them).
const BUILD_RARELY = ['engine/cache-sharing.js', 'registry/index.js'];
const BUNDLES = [
  {
    entry: 'cli/run-main.js',
    outfile: 'cli/run-bundle.cjs',
    // The shim's client and the ports' parsing are in (`run -d -p` then loads no ES module), and
    // attaching (a foreground run with -p, -t or -a: as ES modules they loaded the store's a second time).
    relocate: true,
    external: ['runtime/ports-forward.js', 'hash/pool.js', 'builder/index.js', 'parser/index.js', 'engine/containers-commit.js', 'engine/containers-inspect.js', 'engine/containers-io.js', 'engine/containers-list.js', 'store/layer-adopt.js', 'store/layer-pack.js', 'store/layer-unpack.js', 'store/copier/put.js'],
  },
  // A container's shim (runtime/shim/start.cts): everything it runs, sibling locators relocated.
  { entry: 'runtime/shim/supervise.js', outfile: 'runtime/shim/shim-bundle.cjs', relocate: true, external: ['hash/pool.js'] },
  // A network's DNS responder (runtime/net/dns/start.cts): its process, started with the first container on the network.
  { entry: 'runtime/net/dns/serve.js', outfile: 'runtime/net/dns/dns-bundle.cjs', relocate: true, external: ['hash/pool.js'] },
  // The shim's client, the ports' forwarder and the networks' DNS control are in, relocated: as
  // ES modules they loaded the store's modules a second time (~60 ms of a `start`, of `network rm`).
  { entry: 'cli/main.js', outfile: 'cli/cli-bundle.cjs', relocate: true, external: ['hash/pool.js'], bundleYargs: true },
  // pull and push with a plain command line (cli/registry-main.js): no yargs.
  { entry: 'cli/registry-main.js', outfile: 'cli/registry-bundle.cjs', external: SIBLING_LOCATORS },
  // build with a plain command line (cli/build-main.js): no yargs.
  { entry: 'cli/build-main.js', outfile: 'cli/build-bundle.cjs', external: [...SIBLING_LOCATORS, ...BUILD_RARELY] },
];

const YARGS_SHIM = 'node_modules/yargs/lib/platform-shims/esm.mjs';

/**
 * yargs (ES modules only) goes into the CLI bundle too: compiling its modules cost every command
 * some 40 ms. Its platform shim finds its locales through import.meta.url, which a CommonJS
 * bundle lacks: that becomes the shim's own path, worked out from the bundle's at run time.
 * string-width is replaced by scripts/lazy-string-width.cjs (it loads the real one when help is
 * rendered), node:assert (its import in yargs's shim) by scripts/lazy-assert.cjs. Every other
 * package stays outside, required from node_modules.
 */
function packagesOutsideBut(bundleYargs) {
  return {
    name: 'packages-outside',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        const fromPackage = args.importer.includes(`${path.sep}node_modules${path.sep}`);
        if (bundleYargs && fromPackage && args.path === 'string-width') return { path: path.join(here, 'lazy-string-width.cjs') };
        if (bundleYargs && fromPackage && args.path === 'assert') return { path: path.join(here, 'lazy-assert.cjs') };
        // A package's import of a built-in is treated as strata's own (lazy where it can be).
        if (bundleYargs && (args.path === 'yargs' || (fromPackage && !isBuiltin(args.path)))) return undefined;
        // A built-in Node has not loaded by itself, or a package only some commands use (the
        // Dockerfile parser's, the tar header's): required on first use (lazyBuiltin below).
        if (args.namespace !== 'lazy-builtin' && (isLazyBuiltin(args.path) || LAZY_PACKAGES.has(args.path))) return { path: args.path, namespace: 'lazy-builtin' };
        return { path: args.path, external: true };
      });
      b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({ contents: lazyBuiltin(args.path), loader: 'js' }));
    },
  };
}

/**
 * Built-in modules Node loads at every start anyway (its bootstrap): required as they are. Any
 * other (child_process, crypto, net, http, stream, readline, zlib...) is required on the first
 * use of one of its exports: a bundle imports some seventy built-ins at its top, each compiled
 * by Node when required (~15 ms for `strata ps`, which uses few of them).
 */
/**
 * Packages every bundle leaves in node_modules and only some commands use: loading one compiles
 * it (no code cache there), some 4 ms for moo, and every command loads the services, which load
 * the parser. Each is an object of named exports (never a function), so getters can stand for it.
 */
const LAZY_PACKAGES = new Set(['moo', 'nearley', 'tar/header']);

const EAGER_BUILTINS = new Set(['events', 'buffer', 'path', 'timers', 'util', 'fs', 'url', 'querystring', 'async_hooks']);
const require = createRequire(import.meta.url);

function isLazyBuiltin(specifier) {
  const name = specifier.replace(/^node:/, '');
  return isBuiltin(specifier) && !EAGER_BUILTINS.has(name) && !name.startsWith('path/') && !name.startsWith('util/');
}

/**
 * A CommonJS module standing for built-in or package SPECIFIER: its exports (the names this Node
 * gives it, or the package in node_modules has, read now; the bundle runs on the Node that built
 * it, beside that node_modules) are getters that require it on first use.
 * esbuild's __toESM copies them as getters, so an import alone loads nothing.
 */
function lazyBuiltin(specifier) {
  const real = require(specifier);
  if (LAZY_PACKAGES.has(specifier) && typeof real === 'function') throw new Error(`${specifier}: its exports are a function, which getters cannot stand for`);
  const names = Object.getOwnPropertyNames(real).filter((n) => n !== '__esModule');
  const props = names.map((n) => `${JSON.stringify(n)}:{get(){return l()[${JSON.stringify(n)}]},enumerable:true}`);
  return `let m;const l=()=>m??=require(${JSON.stringify(specifier)});module.exports=Object.defineProperties({},{${props.join(',')}});`;
}

/**
 * esbuild's __toESM wraps a CommonJS module for a default import by copying every export onto a
 * new object, at every import site: some forty copies of node:fs, node:path... per start, a few
 * ms. Memoized per module, each is copied once (an ES module namespace is one object anyway).
 * Returns the text unchanged, with a warning, if the helper is not found (another esbuild).
 */
function memoizeToEsm(text, name) {
  const head = /var ([\w$]+)=\(([\w$]+),[\w$]+,([\w$]+)\)=>\(\3=\2!=null\?/.exec(text);
  if (!head) {
    console.warn(`${name}: esbuild's __toESM helper not found; left as is`);
    return text;
  }
  const open = head.index + head[0].indexOf('=>(') + 2;
  let depth = 0;
  let end = open;
  for (; end < text.length; end++) {
    if (text[end] === '(') depth++;
    else if (text[end] === ')' && --depth === 0) break;
  }
  const helper = text.slice(head.index + head[0].indexOf('=') + 1, end + 1);
  const memoized = `((f,c)=>(e,t)=>{if(e==null||typeof e!="object"&&typeof e!="function")return f(e,t);let s=c.get(e);s||c.set(e,s=[]);return s[t?1:0]??=f(e,t)})(${helper},new WeakMap)`;
  return `${text.slice(0, head.index)}var ${head[1]}=${memoized}${text.slice(end + 1)}`;
}

/**
 * Lets a bundled module find its sibling files: its `import.meta.url` (empty in a CommonJS bundle)
 * becomes the URL of its own dist/ file, worked out from the bundle's directory at run time
 * (`__dirname` is the bundle's directory, see src/bundle-load.cts).
 */
const RELOCATE_BANNER = 'var __strataUrl=(p)=>require("node:url").pathToFileURL(require("node:path").join(__dirname,p)).href;';
function relocateMetaUrl(outfile) {
  return {
    name: 'relocate-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(dist + path.sep)) return undefined;
        const text = fs.readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const rel = path.relative(path.dirname(outfile), args.path);
        return { contents: text.replaceAll('import.meta.url', `__strataUrl(${JSON.stringify(rel)})`), loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}

/** Keeps the external modules out, imported by their path relative to the bundle's directory. */
function keepExternal(outfile, external) {
  return {
    name: 'keep-external',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const target = path.resolve(args.resolveDir, args.path);
        if (!external.includes(target) || args.importer === '') return undefined;
        const rel = path.relative(path.dirname(outfile), target);
        return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
      });
    },
  };
}

for (const bundle of BUNDLES) {
  const outfile = path.join(dist, bundle.outfile);
  const name = path.basename(outfile);
  // Written beside, then renamed over, so a `strata` started meanwhile reads a whole file.
  const staging = `${outfile}.tmp-${process.pid}`;
  try {
    const result = await build({
      entryPoints: [path.join(dist, bundle.entry)],
      outfile: staging,
      bundle: true,
      minify: true,
      // STRATA_BUNDLE_NAMES=1: keep the functions' names, for a readable CPU profile.
      ...(process.env.STRATA_BUNDLE_NAMES ? { minify: false, minifyWhitespace: true, minifySyntax: true } : {}),
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      plugins: [packagesOutsideBut(bundle.bundleYargs), keepExternal(outfile, bundle.external.map((f) => path.join(dist, f))), ...(bundle.relocate ? [relocateMetaUrl(outfile)] : [])],
      ...(bundle.relocate ? { banner: { js: RELOCATE_BANNER } } : {}),
      ...(bundle.bundleYargs ? {
        define: { 'import.meta.url': '__yargsShimUrl' },
        banner: { js: `"use strict";var __yargsShimUrl=require("node:url").pathToFileURL(require("node:path").join(__dirname,${JSON.stringify(path.relative(path.dirname(outfile), path.join(here, '..', YARGS_SHIM)))})).href;${bundle.relocate ? RELOCATE_BANNER : ''}` },
      } : {}),
      logLevel: 'warning',
      metafile: true,
    });
    // STRATA_BUNDLE_META=1: esbuild's metafile beside the bundle (what went in, and from where).
    if (process.env.STRATA_BUNDLE_META) fs.writeFileSync(`${staging}.meta.json`.replace(/\.tmp-\d+/, ''), JSON.stringify(result.metafile));
    // Such as import.meta in a bundled module (it would be empty): make that module external.
    if (result.warnings.length > 0) throw new Error(`${name}: esbuild warnings (printed above)`);
    // require() cannot load our ESM files: every external must stay a dynamic import().
    const text = fs.readFileSync(staging, 'utf8').replace(/^#!.*\n/, '');
    const required = text.match(/require\("\.{1,2}\/[^"]*"\)/g);
    if (required) throw new Error(`${name}: static imports of external modules: ${required.join(', ')}`);
    const rewritten = memoizeToEsm(text, name).replace(/\bimport\((?=")/g, '__import(');
    const left = rewritten.match(/\bimport\(/g);
    if (left) throw new Error(`${name}: ${left.length} dynamic import() calls without a string specifier`);
    // An all-ASCII bundle is read into a one-byte string: one non-ASCII character (a `µ` in a
    // regular expression, which esbuild leaves as written) makes Node decode all of it into a
    // two-byte one, twice the memory and ~4 ms more of every command's start here.
    const wide = rewritten.match(/.{0,40}[^\x00-\x7f].{0,10}/);
    if (wide) throw new Error(`${name}: a character outside ASCII (write it as \\u.... in the source): ${wide[0]}`);
    fs.writeFileSync(staging, rewritten);
    // The dist/ files it was made from, relative to its dir: a later tsc makes it stale (start.cts).
    const inputs = Object.keys(result.metafile.inputs).map((f) => path.relative(path.dirname(outfile), path.resolve(f)));
    // With tsc's build info, written at each emit (tsconfig.json): while it is older, one stat says fresh.
    const buildInfo = path.relative(path.dirname(outfile), path.join(dist, '.tsbuildinfo'));
    fs.writeFileSync(`${outfile}.inputs`, `${JSON.stringify({ buildInfo, files: inputs.filter((f) => !f.includes('node_modules')) })}\n`);
    fs.renameSync(staging, outfile);
    // Code caches made for the previous bundle (start.cjs would ignore them anyway).
    for (const f of fs.readdirSync(path.dirname(outfile))) {
      if (f.startsWith(`${name}.`) && f.endsWith('.v8cache')) fs.rmSync(path.join(path.dirname(outfile), f), { force: true });
    }
  } finally {
    fs.rmSync(staging, { force: true });
  }
}
fs.rmSync(path.join(dist, 'cli', 'run-bundle'), { recursive: true, force: true }); // the earlier ESM bundle
