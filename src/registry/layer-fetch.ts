// One layer of a pull: its compressed blob downloaded into the store's tmp/ (kept there as
// partial-<hex> if interrupted, so the next pull asks only for the missing bytes with Range),
// hashed and counted as it arrives, decompressed (gzip by zlib, zstd by fzstd) and scanned as
// it arrives: the diff_id hashed, names and links checked, size bounded (store scanLayer). The
// blob's digest and size are checked before anything is kept; the compressed blob is then kept
// under its digest and the layer recorded as packed in it: it is unpacked into its snapshot only
// when its files are first needed (the store's layerPath). An uncompressed layer is imported.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { StrataError } from '../errors.js';
import { newSha256 } from '../hash/index.js';
import type { Repository } from './client.js';
import { OCI_LAYER_GZIP, OCI_LAYER_ZSTD, type Compression } from './media-types.js';
import { lockPartial } from './partials.js';
import { digestHex, importLayerTar, keepPacked, keepVerifiedBlob, scanLayerTar, tempDir, type Store } from './store-access.js';

export interface LayerToFetch {
  digest: string;
  size: number;
  diffId: string;
  compression: Compression;
  /** The descriptor's media type (recorded with a packed layer). */
  mediaType?: string;
}

export interface FetchEvents {
  progress(done: number, total: number): void;
  phase(status: 'Downloading' | 'Verifying Checksum' | 'Download complete' | 'Extracting'): void;
}

async function* decompress(source: AsyncIterable<Buffer>, how: Compression, maxBytes: number): AsyncGenerator<Buffer> {
  let out: AsyncIterable<Uint8Array>;
  if (how === 'none') out = source;
  else if (how === 'gzip') {
    const { createGunzip } = await import('node:zlib');
    const gunzip = createGunzip({ chunkSize: 1024 * 1024 });
    const input = Readable.from(source);
    input.on('error', (err) => gunzip.destroy(err));
    input.pipe(gunzip);
    out = gunzip;
  } else out = zstdDecoded(source);
  let total = 0;
  try {
    for await (const c of out) {
      total += c.length;
      if (total > maxBytes) throw new StrataError(`layer too large: more than ${maxBytes} bytes uncompressed`);
      yield Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.length);
    }
  } catch (err) {
    if (err instanceof StrataError) throw err;
    throw new StrataError(`invalid ${how} data: ${(err as Error).message}`);
  }
}

/** zstd in pure JavaScript (Node 20 has none): fzstd's streaming decoder. */
async function* zstdDecoded(source: AsyncIterable<Buffer>): AsyncGenerator<Uint8Array> {
  const { Decompress } = await import('fzstd');
  let ready: Uint8Array[] = [];
  const d = new Decompress((chunk) => ready.push(chunk));
  try {
    for await (const c of source) {
      d.push(c);
      const out = ready;
      ready = [];
      yield* out;
    }
    d.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof StrataError) throw err;
    throw new StrataError(`invalid zstd data: ${(err as Error).message}`);
  }
  yield* ready;
}

/** Bytes downloaded ahead of the layer import before the download waits for it. */
const AHEAD = 16 * 1024 * 1024;
/** Bytes received but not yet written to the partial file before the download waits for the disk. */
const UNWRITTEN = 8 * 1024 * 1024;
/** A datasync is started each time this much more of a blob is written (see Download). */
const SYNC_EVERY = 32 * 1024 * 1024;
/** At most this much is joined into one piece for the layer import. */
const BATCH = 1024 * 1024;

/**
 * The download of one blob, decoupled from its consumer: it appends to the partial file and
 * hashes everything (the kept prefix first), and hands the chunks to the layer import through a
 * bounded queue. When the import fails before the blob ended, the download still runs to the
 * end, so the blob's digest can be checked and the true cause named (a corrupt blob makes a
 * corrupt tar long before its last byte).
 *
 * The socket gives 64 KiB at a time, and each write or inflate handed to a thread costs a
 * thread wake-up (expensive in a VM): what arrives while the file's last write is under way is
 * written with the next one (one writev), and the import takes what is queued in one piece.
 */
class Download {
  private queue: Buffer[] = [];
  private queued = 0;
  private wake?: () => void;
  private room?: () => void;
  private consumer = true;
  private finished = false;
  readonly result: Promise<{ digest?: string; error?: StrataError }>;

  constructor(prefix: AsyncIterable<Buffer> | undefined, body: AsyncIterable<Buffer>, fh: fs.FileHandle, private readonly l: LayerToFetch, ev: FetchEvents) {
    const hash = newSha256();
    let got = 0;
    // Chunks not yet on disk; `writing` is the writev under way (at most one: appends stay in order).
    let unwritten: Buffer[] = [];
    let unwrittenBytes = 0;
    let writing: Promise<void> | undefined;
    let writeError: unknown;
    // The kept blob is fsynced before it is named (fetchLayer); a big one's writeback is started
    // along the way (a datasync every SYNC_EVERY bytes, in a pool thread) so that the last one
    // has only the tail left: with a single one at the end, a 128 MiB layer waited ~60-90 ms for
    // its disk after its last byte.
    let onDisk = 0;
    let synced = 0;
    let syncing: Promise<void> | undefined;
    const startWriteback = () => {
      if (syncing || onDisk - synced < SYNC_EVERY) return;
      synced = onDisk;
      syncing = fh.datasync().catch(() => undefined).then(() => void (syncing = undefined)); // the final sync reports errors
    };
    const flush = (): Promise<void> => {
      const batch = unwritten;
      unwritten = [];
      const w = (async () => {
        try {
          let off = 0;
          let skip = 0;
          const total = batch.reduce((n, b) => n + b.length, 0);
          // writev may write less than asked (a full disk is an error, a short write is not).
          while (off < total) {
            const { bytesWritten } = await fh.writev(skip ? [batch[0].subarray(skip), ...batch.slice(1)] : batch);
            off += bytesWritten;
            let n = bytesWritten + skip;
            skip = 0;
            while (batch.length && n >= batch[0].length) n -= batch.shift()!.length;
            skip = n;
          }
          unwrittenBytes -= total;
          onDisk += total;
          startWriteback();
        } catch (err) {
          writeError ??= err;
        }
      })();
      writing = w.then(() => {
        writing = undefined;
        if (unwritten.length && writeError === undefined) return flush();
      });
      return writing;
    };
    const write = async (c: Buffer): Promise<void> => {
      if (writeError !== undefined) throw writeError; // nothing after a failed write: the file stays a prefix of the blob
      unwritten.push(c);
      unwrittenBytes += c.length;
      if (!writing) void flush();
      if (unwrittenBytes > UNWRITTEN) await writing;
      if (writeError !== undefined) throw writeError;
    };
    const drainWrites = async (): Promise<void> => {
      while (writing) await writing;
      await syncing;
      if (writeError !== undefined) throw writeError;
    };
    this.result = (async () => {
      try {
        for await (const c of prefix ?? []) {
          hash.update(c);
          got += c.length;
          await this.push(c);
        }
        ev.phase('Downloading');
        try {
          for await (const c of body) {
            if (got + c.length > l.size) return { error: new StrataError(`layer "${l.digest}" is larger than its manifest says (${l.size} bytes)`) };
            await write(c);
            hash.update(c);
            got += c.length;
            ev.progress(got, l.size);
            await this.push(c);
          }
          await drainWrites();
        } catch (err) {
          // What arrived is kept: the next pull asks only for the rest.
          await drainWrites().catch(() => undefined);
          return { error: new StrataError(`layer "${l.digest}" is truncated: download interrupted after ${got} of ${l.size} bytes (${(err as Error).message})`) };
        }
        if (got !== l.size) return { error: new StrataError(`layer "${l.digest}" is truncated: got ${got} of ${l.size} bytes`) };
        ev.phase('Verifying Checksum');
        const digest = `sha256:${hash.digest('hex')}`;
        if (digest !== l.digest) return { digest, error: new StrataError(`layer digest mismatch: expected "${l.digest}", got "${digest}"`) };
        ev.phase('Download complete');
        ev.phase('Extracting');
        return { digest };
      } finally {
        this.finished = true;
        this.wake?.();
      }
    })();
  }

  private async push(c: Buffer): Promise<void> {
    if (!this.consumer) return;
    this.queue.push(c);
    this.queued += c.length;
    this.wake?.();
    if (this.queued > AHEAD) await new Promise<void>((resolve) => (this.room = resolve));
  }

  /** The next piece for the import: what is queued, joined up to BATCH bytes. */
  private take(): Buffer | undefined {
    const first = this.queue.shift();
    if (!first || first.length >= BATCH || !this.queue.length || first.length + this.queue[0].length > BATCH) return first;
    const parts = [first];
    let n = first.length;
    while (this.queue.length && n + this.queue[0].length <= BATCH) {
      const c = this.queue.shift()!;
      parts.push(c);
      n += c.length;
    }
    return Buffer.concat(parts, n);
  }

  /** The blob's bytes for the layer import; throws the download's error in place of its end. */
  async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      const c = this.take();
      if (c) {
        this.queued -= c.length;
        if (this.queued <= AHEAD) this.room?.();
        yield c;
        continue;
      }
      if (this.finished) break;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    const r = await this.result;
    if (r.error) throw r.error;
  }

  /** The import gave up: stop queueing, let the download finish, and name its failure if it had one. */
  async abandon(): Promise<StrataError | undefined> {
    this.consumer = false;
    this.queue = [];
    this.queued = 0;
    this.room?.();
    return (await this.result).error;
  }
}

/** Downloads, verifies and imports one layer; resolves when the store has it. */
export async function fetchLayer(store: Store, repo: Repository, l: LayerToFetch, ev: FetchEvents, maxBytes: number): Promise<void> {
  const hex = digestHex(l.digest);
  const tmp = await tempDir(store);
  let partial = path.join(tmp, `partial-${hex}`);
  const lock = `${partial}.lock`;
  const locked = await lockPartial(lock);
  if (!locked) partial = path.join(tmp, `.tmp-${process.pid}-partial-${hex}`); // another pull is writing it
  try {
    let have = (await fs.stat(partial).catch(() => undefined))?.size ?? 0;
    if (have > l.size) {
      await fs.rm(partial, { force: true });
      have = 0;
    }
    let tarSize: number;
    try {
      tarSize = await receive(store, repo, l, partial, have, ev, maxBytes);
    } catch (err) {
      // Only an interrupted download is worth resuming; anything else came from bad bytes.
      if (!(err instanceof StrataError && /is truncated/.test(err.message))) await fs.rm(partial, { force: true });
      throw err;
    }
    // An uncompressed layer is its own blob (digest = diff_id): nothing more to keep.
    if (l.compression === 'none') await fs.rm(partial, { force: true });
    else await keepFetched(store, l, partial, tarSize);
  } finally {
    if (locked) await fs.rm(lock, { force: true });
    else await fs.rm(partial, { force: true });
  }
}

/**
 * Downloads a compressed layer into `file` (a new temp file) without keeping it: its digest and
 * its tar (diff_id, names, size) are verified as it arrives; returns the tar's size. `signal`
 * stops it (it then throws). The file is the caller's to keep (keepFetched) or remove.
 */
export async function receiveLayer(store: Store, repo: Repository, l: LayerToFetch, file: string, maxBytes: number, signal?: AbortSignal): Promise<number> {
  if (l.compression === 'none') throw new StrataError('an uncompressed layer is imported, not received');
  const quiet = { progress: () => undefined, phase: () => undefined };
  return receive(store, repo, l, file, 0, quiet, maxBytes, signal);
}

/** Keeps a received, verified compressed blob under its digest and records the layer as packed in it. */
export async function keepFetched(store: Store, l: LayerToFetch, file: string, tarSize: number): Promise<void> {
  await keepVerifiedBlob(store, file, l.digest);
  await keepPacked(store, l.diffId, { digest: l.digest, mediaType: l.mediaType ?? (l.compression === 'gzip' ? OCI_LAYER_GZIP : OCI_LAYER_ZSTD), size: tarSize });
}

/** The blob from byte `have` on appended to `file` (which holds its first `have` bytes), verified as it arrives. */
async function receive(store: Store, repo: Repository, l: LayerToFetch, file: string, have: number, ev: FetchEvents, maxBytes: number, signal?: AbortSignal): Promise<number> {
  signal?.throwIfAborted();
  const remote = await repo.blob(l.digest, have);
  if (remote.offset === 0) have = 0;
  const stop = () => remote.body.destroy(new StrataError('stopped'));
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop();
  const fh = await fs.open(file, have > 0 ? 'a' : 'w', 0o644);
  const prefix = have > 0 ? (createReadStream(file, { end: have - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) : undefined;
  const download = new Download(prefix, remote.body as AsyncIterable<Buffer>, fh, l, ev);
  let tarSize = 0;
  try {
    const tar = decompress(download.chunks(), l.compression, maxBytes);
    if (l.compression === 'none') await importLayerTar(store, tar, l.diffId, l.size);
    else tarSize = await scanLayerTar(store, tar, l.diffId);
    await fh.sync();
  } catch (err) {
    // The download's own failure (truncated, wrong digest) is the cause when there is one.
    const cause = await download.abandon();
    throw cause ?? err;
  } finally {
    signal?.removeEventListener('abort', stop);
    await fh.close();
    remote.body.destroy();
  }
  return tarSize;
}
