// Tests of the store: a fresh state root in a temp dir, opened quietly, removed afterwards.
import path from 'node:path';
import { openStore, type Store } from '../store/index.js';
import { tempDir } from './cli.js';

/** Runs FN with a store opened on a new state root (its path too); the root is removed after. */
export async function withTempStore(fn: (store: Store, root: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  try {
    const root = path.join(dir, 'root');
    await fn(await openStore(root, { onWarning: () => undefined }), root);
  } finally {
    cleanup();
  }
}
