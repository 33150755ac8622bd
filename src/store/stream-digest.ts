// The sha256 of a stream that is not written to disk (a layer's tar as it is packed, extracted
// or rebuilt): on this thread, or in a pool worker when the caller knows the stream is big
// (past INLINE_HASH_BYTES a worker's start-up pays for itself, and hashing overlaps the
// caller's reads and writes).
import type { Hash } from 'node:crypto';
import { createStreamHasher, INLINE_HASH_BYTES, newSha256, type StreamHasher } from '../hash/index.js';
import type { Digest } from './types.js';

export class StreamDigest {
  private here?: Hash;
  private pooled?: StreamHasher;
  private started = false;
  bytes = 0;

  /** `sizeHint`, asked at the first chunk: the stream's expected size, if known. */
  constructor(private readonly sizeHint?: () => number | undefined) {}

  private async start(): Promise<void> {
    this.started = true;
    if ((this.sizeHint?.() ?? 0) > INLINE_HASH_BYTES) {
      this.pooled = await createStreamHasher();
    } else this.here = newSha256();
  }

  /** Hashes `chunk` (the pool copies it: the caller may reuse its buffer once this resolves). */
  async update(chunk: Uint8Array): Promise<void> {
    if (!this.started) await this.start();
    this.bytes += chunk.length;
    if (this.here) this.here.update(chunk);
    else if (!this.pooled!.update(chunk)) await this.pooled!.drained();
  }

  async digest(): Promise<Digest> {
    if (!this.started) await this.start();
    return `sha256:${this.here ? this.here.digest('hex') : await this.pooled!.digest()}`;
  }

  /** Ends a pooled hash nobody will ask for (so the worker's task ends). */
  async abort(): Promise<void> {
    await this.pooled?.digest().catch(() => undefined);
  }
}
