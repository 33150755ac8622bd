// A container's shim as plain ES modules: `node main.js CONTAINER_DIR` (start.cjs runs the same
// from its bundle; it falls back to this file when the bundle is missing or stale).
import { shimMain } from './supervise.js';

await shimMain(process.argv[2]);
