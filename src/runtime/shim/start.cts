// The entry startShim() (client.ts) spawns: `node start.cjs [CONTAINER_DIR]` (none for a shim
// spawned early, whose "go" line names it). CommonJS on purpose,
// as the `strata` command's start.cjs: the shim's code comes from one bundle
// (shim-bundle.cjs, scripts/bundle-cli.mjs) compiled through a V8 code cache (written by the first
// shim a second after it started, by then past its start path), so a detached
// start does not wait for Node's ES module loader and some sixty modules. Without a usable
// bundle (a plain `tsc` ran since), main.js runs the same code as ES modules.
import path = require('node:path');
import url = require('node:url');
import bundles = require('../../bundle-load.cjs');

type ShimBundle = { shimMain?: (dir: string | undefined) => Promise<never> };

const shim = bundles.loadBundleIn(__dirname, 'shim-bundle.cjs', 'shim-bundle.cjs.v8cache', { cacheAfterMs: 1000 }) as ShimBundle | undefined;
if (shim?.shimMain) void shim.shimMain(process.argv[2]);
else void import(url.pathToFileURL(path.join(__dirname, 'main.js')).href);
