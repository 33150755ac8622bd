// Everything a state root has in the kernel, released at once: before the root itself is
// deleted (tests do this for their temporary roots), so nothing waits for the next command's
// sweep of dead roots (kernel.ts sweepDeadRoots).
import fs from 'node:fs';
import path from 'node:path';
import { bridgeDown, renderRules } from './kernel.js';
import { readClaims, removeClaim } from './pool.js';
import { spawnSync } from 'node:child_process';

function stopResponders(root: string): void {
  const dir = path.join(root, 'networks');
  let ids: string[] = [];
  try {
    ids = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const id of ids) {
    try {
      const { pid } = JSON.parse(fs.readFileSync(path.join(dir, id, 'responder.json'), 'utf8')) as { pid: number };
      // Only a process that is ours: its command line names this very root.
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(root)) process.kill(pid, 'SIGTERM');
    } catch {
      // no responder, or gone
    }
  }
}

/**
 * Removes the bridges, the nftables table and the responders of every state root at or under
 * DIR (a test's temporary directory), and their claims. Their containers must be gone. No
 * machine lock is needed: each bridge goes before its claim, so its subnet stays covered (by
 * its route, then by the claim) until both are gone, and every name removed is this root's.
 */
export function teardownRoot(dir: string): void {
  const prefix = path.resolve(dir);
  const mine = readClaims().filter((c) => c.root === prefix || c.root.startsWith(`${prefix}/`));
  for (const root of new Set(mine.map((c) => c.root))) stopResponders(root);
  for (const c of mine) {
    bridgeDown(c.bridge);
    removeClaim(c.bridge);
  }
  for (const rootId of new Set(mine.map((c) => c.rootId).filter(Boolean))) {
    spawnSync('nft', ['-f', '-'], { input: renderRules(rootId, []), stdio: ['pipe', 'ignore', 'ignore'] });
  }
}
