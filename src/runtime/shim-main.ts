// Entry point of a container's shim process: `node shim-main.js CONTAINER_DIR`, started by
// startShim() (shim-client.ts) with fd 3 a pipe for its one line of news.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { removeVolume } from '../store/volumes.js';
import { runShim, type ShimNews } from './shim.js';

const dir = process.argv[2];

function news(message: ShimNews): void {
  try {
    fs.writeSync(3, `${JSON.stringify(message)}\n`);
    fs.closeSync(3);
  } catch {
    // The starting CLI is gone; nobody to tell.
  }
}

// The shim outlives the CLI and its terminal: hang-ups and broken pipes are not its business.
process.on('SIGHUP', () => undefined);
process.on('SIGPIPE', () => undefined);

if (!dir) {
  news({ ok: false, error: 'shim: no container directory given', exitCode: 125 });
  process.exit(125);
}

await runShim(path.resolve(dir), {
  news,
  removeContainer: async (config, anonymousVolumes) => {
    spawnSync('runc', ['--root', config.runcRoot, 'delete', '-f', config.id], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
    for (const name of anonymousVolumes) {
      try {
        removeVolume(config.root, name);
      } catch {
        // Already gone, or used by another container through --volumes-from: kept, as Docker does.
      }
    }
  },
});
process.exit(0);
