// Starting and stopping a network's DNS responder (responder.ts). Its pid and start time are
// kept in the network's dir (responder.json, written by the responder: info.ts), so any strata
// process can tell whether it runs and stop it; a responder whose network or root is gone stops
// by itself.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrataError } from '../../../errors.js';
import { failpoint } from '../../../failpoint.js';
import { withLock } from '../../../store/index.js';
import type { NetworkRecord, NetworkStore } from '../../../store/index.js';
import { endpointAlive } from '../host.js';
import { infoFile, readInfo, running } from './info.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const STARTUP_TIMEOUT_MS = 30_000;

/** The responder's pid while it runs. */
export function responderPid(store: NetworkStore, networkId: string): number | undefined {
  const info = readInfo(store, networkId);
  return running(info) ? info.pid : undefined;
}

function lockFile(store: NetworkStore, networkId: string): string {
  return path.join(store.networkDir(networkId), 'responder.lock');
}

/** Starts NET's responder unless it runs; resolves once it answers on the gateway. */
export async function ensureResponder(store: NetworkStore, net: NetworkRecord): Promise<void> {
  if (running(readInfo(store, net.Id))) return;
  await withLock(lockFile(store, net.Id), async () => {
    if (running(readInfo(store, net.Id))) return;
    // start.cjs: the responder's bundle (main.ts under tsx).
    const main = path.join(here, ext === '.ts' ? 'main.ts' : 'start.cjs');
    const child = spawn(process.execPath, [...process.execArgv, main, store.root, net.Id], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), STARTUP_TIMEOUT_MS);
      child.stdout!.once('data', () => (clearTimeout(timer), resolve(true)));
      child.once('exit', () => (clearTimeout(timer), resolve(false)));
      child.once('error', () => (clearTimeout(timer), resolve(false)));
    });
    child.stdout!.destroy();
    child.stderr!.destroy();
    child.unref();
    if (!ok) {
      child.kill('SIGKILL');
      throw new StrataError(`starting the DNS responder of network "${net.Name}": ${stderr.trim().split('\n').pop() || 'it did not start'}`);
    }
    failpoint('net.responder-ready');
  });
}

/** Stops the network's responder if it runs. */
export function stopResponder(store: NetworkStore, networkId: string): void {
  const info = readInfo(store, networkId);
  if (running(info)) {
    try {
      process.kill(info.pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
  fs.rmSync(infoFile(store, networkId), { force: true });
}

/**
 * Stops the responders of the networks left without a live endpoint (they would stop by
 * themselves, later). Under the lock a starting container takes after writing its endpoint,
 * so a responder it has just been promised is never stopped.
 */
export async function stopIdleResponders(store: NetworkStore, networkIds: string[]): Promise<void> {
  for (const id of networkIds) {
    if (!running(readInfo(store, id))) continue;
    await withLock(lockFile(store, id), async () => {
      if (!store.endpoints(id).some(endpointAlive)) stopResponder(store, id);
    }).catch(() => undefined); // the network was removed meanwhile
  }
}
