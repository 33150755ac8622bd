// Content-addressed blobs under blobs/sha256/. A blob is written to a temp file in the store's
// tmp/ (same filesystem), hashed while written (in the hash pool), fsynced, then renamed into
// place; a blob path therefore always holds complete, verified content.
import fs from 'node:fs/promises';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { assertDigest, digestHex, sha256Digest } from './digest.js';
import { exists, fsyncDir, tempName } from './fsutil.js';
import type { Digest } from './types.js';

/** Marks a reused blob as young, so a concurrent garbage collection spares it. */
async function touch(file: string): Promise<void> {
  const now = new Date();
  await fs.utimes(file, now, now).catch(() => undefined);
}

export interface BlobWriteResult {
  digest: Digest;
  size: number;
}

export class BlobStore {
  readonly dir: string;
  constructor(
    readonly root: string,
    readonly tmpDir: string,
  ) {
    this.dir = path.join(root, 'blobs', 'sha256');
  }

  path(digest: Digest): string {
    return path.join(this.dir, digestHex(digest));
  }

  has(digest: Digest): Promise<boolean> {
    return exists(this.path(digest));
  }

  async size(digest: Digest): Promise<number> {
    return (await fs.stat(this.path(digest))).size;
  }

  async readJson<T>(digest: Digest): Promise<T> {
    let text: string;
    try {
      text = await fs.readFile(this.path(digest), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new StrataError(`blob "${digest}" is missing from the store`);
      throw err;
    }
    return JSON.parse(text) as T;
  }

  /** Stores small content (manifests, configs), hashed on this thread. */
  async writeBytes(data: string | Uint8Array, expected?: Digest): Promise<BlobWriteResult> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = sha256Digest(buf);
    if (expected && expected !== digest) throw new StrataError(`digest mismatch: expected "${expected}", got "${digest}"`);
    const target = this.path(digest);
    if (await exists(target)) await touch(target);
    else {
      const tmp = tempName(this.tmpDir);
      const fh = await fs.open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(buf);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.commit(tmp, target);
    }
    return { digest, size: buf.length };
  }

  /** Streams content into a blob, hashing it in a worker as it is written. */
  async writeStream(source: AsyncIterable<Uint8Array>, expected?: Digest): Promise<BlobWriteResult> {
    if (expected) assertDigest(expected);
    const tmp = tempName(this.tmpDir);
    // Loaded on first use: commands that only read the store never pay for piscina.
    const { createStreamHasher } = await import('../hash/pool.js');
    const hasher = createStreamHasher();
    let size = 0;
    let committed = false;
    try {
      const fh = await fs.open(tmp, 'wx', 0o644);
      try {
        for await (const chunk of source) {
          size += chunk.length;
          const ok = hasher.update(chunk);
          await fh.write(chunk);
          if (!ok) await hasher.drained();
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = `sha256:${await hasher.digest()}`;
      if (expected && expected !== digest) throw new StrataError(`digest mismatch: expected "${expected}", got "${digest}"`);
      const target = this.path(digest);
      if (await exists(target)) {
        await fs.rm(tmp, { force: true });
        await touch(target);
      }
      else await this.commit(tmp, target);
      committed = true;
      return { digest, size };
    } finally {
      if (!committed) {
        await hasher.digest().catch(() => undefined);
        await fs.rm(tmp, { force: true });
      }
    }
  }

  private async commit(tmp: string, target: string): Promise<void> {
    await fs.rename(tmp, target);
    await fsyncDir(this.dir);
  }

  async remove(digest: Digest): Promise<void> {
    await fs.rm(this.path(digest), { force: true });
  }

  async list(): Promise<Digest[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }
}
