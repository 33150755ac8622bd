// Entry point of a container's shim process: `node main.js CONTAINER_DIR`, started by
// startShim() (shim/client.ts) with fd 3 a pipe for its one line of news.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ContainerStore, removeVolume } from '../../store/index.js';
import { runShim, type ShimNews, type ShimProgress } from './shim.js';
import { applyStatus } from './record.js';
import { readShimConfig, type ShimStatus } from './state.js';

const dir = process.argv[2];

function news(message: ShimNews): void {
  // Only once the record says what happened, so the CLI's next command sees it.
  void recordUpdates.then(() => writeNews(message));
}

function writeNews(message: ShimNews | ShimProgress, last = true): void {
  try {
    fs.writeSync(3, `${JSON.stringify(message)}\n`);
    if (last) fs.closeSync(3);
  } catch {
    // The starting CLI is gone; nobody to tell.
  }
}

// The shim outlives the CLI and its terminal: hang-ups and broken pipes are not its business.
process.on('SIGHUP', () => undefined);
process.on('SIGPIPE', () => undefined);

if (!dir) {
  writeNews({ ok: false, error: 'shim: no container directory given', exitCode: 125 });
  process.exit(125);
}

const config = readShimConfig(path.resolve(dir));
const containers = config ? new ContainerStore(config.root) : undefined;
// Record updates are applied in order, one at a time, without fsync (the record mirrors
// shim.json, which is the truth); the last is awaited before exiting.
let recordUpdates: Promise<unknown> = Promise.resolve();
function mirror(status: ShimStatus): void {
  if (!containers || !config) return;
  const snapshot = { ...status };
  recordUpdates = recordUpdates.then(() => containers.update(config.id, (r) => applyStatus(r, snapshot), { durable: false }).catch(() => undefined));
}

await runShim(path.resolve(dir), {
  news,
  progress: (p) => writeNews(p, false),
  onStatus: mirror,
  removeContainer: async (config, anonymousVolumes) => {
    await recordUpdates;
    spawnSync('runc', ['--root', config.runcRoot, 'delete', '-f', config.id], { stdio: 'ignore' });
    await containers?.remove(config.id);
    for (const name of anonymousVolumes) {
      try {
        removeVolume(config.root, name);
      } catch {
        // Already gone, or used by another container through --volumes-from: kept, as Docker does.
      }
    }
  },
});
await recordUpdates;
process.exit(0);
