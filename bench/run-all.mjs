// Runs every benchmark one after another (each writes its own section of bench/RESULTS.md).
// Usage: npm run bench [-- NAME...]   e.g. npm run bench -- parse run
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// store-disk needs mmdebstrap and takes minutes: run it by name.
const all = ['parse', 'run', 'store', 'store-check', 'build', 'lifecycle', 'net', 'registry', 'cache'];
const byName = [...all, 'store-disk'];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : all;
let failed = 0;
for (const name of chosen) {
  if (!byName.includes(name)) {
    console.error(`unknown benchmark "${name}" (one of: ${byName.join(', ')})`);
    process.exit(2);
  }
  console.log(`== bench/${name}.mjs`);
  const result = spawnSync(process.execPath, [path.join(here, `${name}.mjs`)], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
