// Loading one of strata's esbuild bundles (scripts/bundle-cli.mjs) through a V8 code cache: the
// CommonJS entries of the `strata` command (cli/start.cts) and of a container's shim
// (runtime/shim/start.cts) use it, so neither starts Node's ES module loader nor compiles dozens
// of modules on the start path.
import fs = require('node:fs');
import path = require('node:path');
import url = require('node:url');
import vm = require('node:vm');

/** The wrapper Node puts around a CommonJS module, plus `__import` for the bundle's dynamic imports. */
const WRAP = ['(function (exports, require, module, __filename, __dirname, __import) {', '\n})'];

export interface LoadOptions {
  /** Writes the code cache this long after loading rather than at exit (a long-lived process). */
  cacheAfterMs?: number;
}

/**
 * Runs a bundle (its top level) and returns its exports, compiled with the code cache beside it
 * when that cache was made for this very file (its size, mtime and inode are the cache's first
 * line); undefined when the bundle is missing or stale. The cache is
 * (re)written after the command, from the functions this run compiled.
 */
export function loadBundleIn(dir: string, name: string, cacheName: string, options: LoadOptions = {}): Record<string, unknown> | undefined {
  const file = path.join(dir, name);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat || isStale(file, stat.mtimeMs)) return undefined;
  const cacheFile = path.join(dir, cacheName);
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
    let written = false;
    const write = () => {
      if (!written) writeCache(cacheFile, stamp, script);
      written = true;
    };
    process.once('exit', write);
    if (options.cacheAfterMs !== undefined) setTimeout(write, options.cacheAfterMs).unref();
  }
  const mod = { exports: {} as Record<string, unknown> };
  // Relative specifiers are the bundle's external modules (ES modules in dist/), node: ones built-ins.
  const importFromBundle = (specifier: string) =>
    import(specifier.startsWith('.') ? url.pathToFileURL(path.resolve(dir, specifier)).href : specifier);
  (script.runInThisContext() as (...args: unknown[]) => void)(mod.exports, require, mod, file, dir, importFromBundle);
  return mod.exports;
}

/**
 * A bundle is stale when a dist/ file it was made from (its `.inputs` list, written by
 * scripts/bundle-cli.mjs) is newer: a plain `tsc` ran after `npm run build`. Every tsc that
 * emits rewrites its build info (tsconfig.json's tsBuildInfoFile) after the .js files, so when
 * that file is no newer than the bundle, one stat answers; else (a tsc since, perhaps
 * `--noEmit`) each input is looked at: some hundred stats, a few ms of a warm pull's ~50.
 */
function isStale(file: string, builtMs: number): boolean {
  let list: string[] | { buildInfo?: string; files: string[] };
  try {
    list = JSON.parse(fs.readFileSync(`${file}.inputs`, 'utf8')) as typeof list;
  } catch {
    return true;
  }
  const dir = path.dirname(file);
  const { buildInfo, files } = Array.isArray(list) ? { buildInfo: undefined, files: list } : list;
  if (buildInfo !== undefined && (fs.statSync(path.join(dir, buildInfo), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) <= builtMs) return false;
  return files.some((f) => (fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.mtimeMs ?? Infinity) > builtMs);
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
