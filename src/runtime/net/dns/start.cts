// The entry control.ts spawns for a network's DNS responder: `node start.cjs ROOT NETWORK_ID`.
// CommonJS on purpose, as the shim's start.cjs: the responder's code comes from one bundle
// (dns-bundle.cjs, scripts/bundle-cli.mjs) compiled through a V8 code cache (written a second
// after it started), so the first container on a network does not wait for Node's ES module
// loader and the store's modules (~60 ms here). Without a usable bundle, main.js runs the same code.
import path = require('node:path');
import url = require('node:url');
import bundles = require('../../../bundle-load.cjs');

type DnsBundle = { responderMain?: (args: string[]) => void };

const dns = bundles.loadBundleIn(__dirname, 'dns-bundle.cjs', 'dns-bundle.cjs.v8cache', { cacheAfterMs: 1000 }) as DnsBundle | undefined;
if (dns?.responderMain) dns.responderMain(process.argv.slice(2));
else void import(url.pathToFileURL(path.join(__dirname, 'main.js')).href);
