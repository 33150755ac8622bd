// busybox:latest for a test's state root, as store/busybox.ts's ensureBusybox makes it, made once
// per `npm test` run: scripts/test.mjs creates it in a store of its own (the template, named by
// STRATA_TEST_BUSYBOX_TEMPLATE) and each new root gets a copy of its files, instead of every root
// building and hashing the same layer again (~0.5-1.5 s each, some hundred roots a run). A copy is
// what createBusybox writes, byte for byte: the snapshot keeps its modes and times (cp -a), the
// store's own files (blobs, layer, index) are dated now, as a fresh one's. Without the variable (a
// test file run alone), or in a store that has images already, it is the product's ensureBusybox.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureBusybox as makeBusybox, type Image, type Store } from '../store/index.js';

export const TEMPLATE_ENV = 'STRATA_TEST_BUSYBOX_TEMPLATE';

/** busybox:latest in STORE: resolved if there, else copied from the run's template, else created. */
export async function ensureBusybox(store: Store): Promise<Image> {
  const template = process.env[TEMPLATE_ENV];
  if (template && fs.existsSync(path.join(template, 'index.json')) && (await isEmpty(store))) seed(template, store.root);
  return makeBusybox(store);
}

async function isEmpty(store: Store): Promise<boolean> {
  if (!fs.existsSync(path.join(store.root, 'index.json'))) return true;
  return (await store.readIndex()).manifests.length === 0;
}

/**
 * A copy of the store at TEMPLATE (busybox alone, say) as a new store at ROOT, made as the run's
 * busybox template is copied: cheaper than emptying a store with CLI calls between test cases.
 */
export function copyStore(template: string, root: string): void {
  seed(template, root);
}

function seed(template: string, root: string): void {
  fs.mkdirSync(root, { recursive: true });
  const r = spawnSync('cp', ['-a', `${template}/.`, root], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`copying busybox from ${template}: ${r.stderr}`);
  const now = new Date();
  const touch = (p: string) => fs.utimesSync(p, now, now);
  for (const f of ['index.json', 'oci-layout']) touch(path.join(root, f));
  for (const f of fs.readdirSync(path.join(root, 'blobs', 'sha256'))) touch(path.join(root, 'blobs', 'sha256', f));
  for (const f of fs.readdirSync(path.join(root, 'layers'))) touch(path.join(root, 'layers', f));
}
