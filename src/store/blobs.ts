// Content-addressed blobs under blobs/sha256/. A blob is written to a temp file in the store's
// tmp/ (same filesystem), hashed while written (a big one in the hash pool), fsynced, then renamed into
// place; a blob path therefore holds complete, verified content, unless something outside strata
// damaged it since: small blobs (manifests, configs) are verified on every read, big ones as
// they are streamed out (stream()), and a blob written again replaces a damaged copy.
import type { Hash } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createStreamHasher, INLINE_HASH_BYTES, newSha256, READ_CHUNK, sha256Digest, type StreamHasher } from '../hash/index.js';
import { StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { DamagedError } from './damage.js';
import { assertDigest, digestHex } from './digest.js';
import { exists, fsyncDir, tempName } from './fsutil.js';
import type { Digest } from './types.js';

/** A pool hasher that has already seen the first `bytes` bytes of `fh`. */
async function poolHasherFrom(fh: FileHandle, bytes: number): Promise<StreamHasher> {
  // The pool loads on first use: commands that only read the store, and small blobs, never pay for piscina.
  const hasher = await createStreamHasher();
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  try {
    for (let pos = 0; pos < bytes;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, bytes - pos), pos);
      if (bytesRead === 0) throw new StrataError('blob temp file is shorter than what was written to it');
      pos += bytesRead;
      if (!hasher.update(buf.subarray(0, bytesRead))) await hasher.drained(); // update copies
    }
  } catch (err) {
    await hasher.digest().catch(() => undefined);
    throw err;
  }
  return hasher;
}

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

  /**
   * A small blob's bytes, checked against its digest (a few KiB: hashing them costs
   * microseconds). `what` names it in errors: "config", "manifest" (default "blob").
   */
  async read(digest: Digest, what = 'blob'): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await fs.readFile(this.path(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DamagedError(`${what} "${digest}"`, '', true);
      throw err;
    }
    if (sha256Digest(data) !== digest) throw new DamagedError(`${what} "${digest}"`, `its content does not match its digest (file "${this.path(digest)}")`);
    return data;
  }

  async readJson<T>(digest: Digest, what = 'blob'): Promise<T> {
    const data = await this.read(digest, what);
    try {
      return JSON.parse(data.toString('utf8')) as T;
    } catch {
      throw new DamagedError(`${what} "${digest}"`, 'it is not valid JSON');
    }
  }

  /**
   * A blob's content in chunks (fresh buffers), checked against its digest as it streams:
   * DamagedError at the latest after the last chunk.
   */
  async *stream(digest: Digest): AsyncGenerator<Buffer> {
    const { StreamDigest } = await import('./stream-digest.js');
    let fh: FileHandle;
    try {
      fh = await fs.open(this.path(digest), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DamagedError(`blob "${digest}"`, '', true);
      throw err;
    }
    try {
      const { size } = await fh.stat();
      const hash = new StreamDigest(() => size);
      try {
        for (;;) {
          const buf = Buffer.allocUnsafe(READ_CHUNK);
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead === 0) break;
          const chunk = buf.subarray(0, bytesRead);
          await hash.update(chunk);
          yield chunk;
        }
      } catch (err) {
        await hash.abort();
        throw err;
      }
      const got = await hash.digest();
      if (got !== digest) throw new DamagedError(`blob "${digest}"`, `its content does not match its digest (file "${this.path(digest)}")`);
    } finally {
      await fh.close();
    }
  }

  /** undefined when the blob's content matches its digest, else what is wrong (reads it all). */
  async verify(digest: Digest): Promise<string | undefined> {
    try {
      for await (const _ of this.stream(digest)) void _;
      return undefined;
    } catch (err) {
      if (err instanceof DamagedError) return err.missing ? 'missing from the store' : err.problem;
      throw err;
    }
  }

  /** Stores small content (manifests, configs), hashed on this thread. An existing copy is kept only if it is intact. */
  async writeBytes(data: string | Uint8Array, expected?: Digest): Promise<BlobWriteResult> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = sha256Digest(buf);
    if (expected && expected !== digest) throw new StrataError(`digest mismatch: expected "${expected}", got "${digest}"`);
    const target = this.path(digest);
    const intact = await fs.readFile(target).then((old) => sha256Digest(old) === digest, () => false);
    if (intact) await touch(target);
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

  /**
   * Streams content into a blob, hashing it as it is written: on this thread while it is small
   * (INLINE_HASH_BYTES; a pool worker's start-up costs more), in a pool worker past that (the
   * bytes so far are read back from the temp file into the worker's hash), or from the start
   * when `sizeHint` says, at the first chunk, that the blob will be big.
   */
  async writeStream(source: AsyncIterable<Uint8Array>, expected?: Digest, options: { sizeHint?: () => number | undefined } = {}): Promise<BlobWriteResult> {
    if (expected) assertDigest(expected);
    const tmp = tempName(this.tmpDir);
    let here: Hash | undefined = newSha256();
    let pooled: StreamHasher | undefined;
    let size = 0;
    let committed = false;
    try {
      // Read and write: a hash handed to the pool re-reads what was written so far.
      const fh = await fs.open(tmp, 'wx+', 0o644);
      try {
        for await (const chunk of source) {
          // sizeHint: what the source knows of its size once it yields (e.g. a walked tree's file
          // bytes); a big blob goes to the pool from its first chunk, with nothing to re-read.
          if (here && (size + chunk.length > INLINE_HASH_BYTES || (size === 0 && (options.sizeHint?.() ?? 0) > INLINE_HASH_BYTES))) {
            pooled = await poolHasherFrom(fh, size);
            here = undefined;
          }
          size += chunk.length;
          if (here) {
            here.update(chunk);
            await fh.write(chunk);
            failpoint('blob.chunk-written');
            continue;
          }
          const ok = pooled!.update(chunk);
          await fh.write(chunk);
          failpoint('blob.chunk-written');
          if (!ok) await pooled!.drained();
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const digest = `sha256:${here ? here.digest('hex') : await pooled!.digest()}`;
      if (expected && expected !== digest) throw new StrataError(`digest mismatch: expected "${expected}", got "${digest}"`);
      // The new copy is complete and verified: it replaces whatever is there (an older copy may
      // have been damaged since it was written), which also marks the blob young for GC.
      await this.commit(tmp, this.path(digest));
      committed = true;
      return { digest, size };
    } finally {
      if (!committed) {
        await pooled?.digest().catch(() => undefined);
        await fs.rm(tmp, { force: true });
      }
    }
  }

  private async commit(tmp: string, target: string): Promise<void> {
    failpoint('blob.before-rename');
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
