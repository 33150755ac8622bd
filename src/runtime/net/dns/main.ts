// The responder process as plain ES modules: `node main.js ROOT NETWORK_ID`, what start.cjs
// runs when the dns bundle is stale (a plain `tsc` ran since), and under tsx.
import { responderMain } from './serve.js';

responderMain(process.argv.slice(2));
