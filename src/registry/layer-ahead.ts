// A cache entry's layer received before the build knows it needs it (its step's key is still
// being computed): the blob goes to a temp file of this process (`.tmp-OWNER-*`, swept by a
// later command if this one is killed), verified as it arrives (digest, diff_id, names, size)
// exactly as a pull's, and reaches the store only when kept. Discarding stops the download and
// removes the file.
import fs from 'node:fs/promises';
import type { LayerAhead } from './cache-store.js';
import type { Repository } from './client.js';
import { keepFetched, receiveLayer, type LayerToFetch } from './layer-fetch.js';
import { digestHex, newTempName, tempDir, type Store } from './store-access.js';

export function receiveAhead(store: Store, repo: Repository, l: LayerToFetch, maxBytes: number, onKept: () => Promise<void>): LayerAhead {
  const stop = new AbortController();
  let file: string | undefined;
  const received = (async () => {
    await tempDir(store);
    file = newTempName(store, `-ahead-${digestHex(l.digest).slice(0, 12)}`);
    return receiveLayer(store, repo, l, file, maxBytes, stop.signal);
  })();
  received.catch(() => undefined); // awaited by keep or discard; a failure alone is no crash
  let kept: Promise<void> | undefined;
  return {
    keep: () => (kept ??= (async () => {
      try {
        await keepFetched(store, l, file!, await received);
      } finally {
        if (file) await fs.rm(file, { force: true }); // gone once kept (renamed), else unwanted
      }
      await onKept();
    })()),
    discard: async () => {
      if (kept) return;
      stop.abort();
      await received.catch(() => undefined);
      if (file) await fs.rm(file, { force: true });
    },
  };
}
