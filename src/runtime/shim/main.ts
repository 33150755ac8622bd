// A container's shim as plain ES modules: `node main.js [CONTAINER_DIR]` (start.cjs runs the same
// from its bundle; it falls back to this file when the bundle is missing or stale). A shim spawned
// before its container existed (`run -d`) has no argument: its "go" line names the directory.
import { shimMain } from './supervise.js';

await shimMain(process.argv[2]);
