// The distribution spec's operations on one repository of one endpoint: manifests (read with a
// 4 MiB cap and verified against the digest asked for or announced), blobs (HEAD, ranged GET,
// cross-repository mount, monolithic, chunked and streamed uploads) and tags.
import { StrataError } from '../errors.js';
import { sha256Digest } from '../hash/index.js';
import { assertDigest, isDigest } from '../store/index.js';
import { RegistryError } from './errors.js';
import { header, type Body, type Transport } from './transport.js';
import { MANIFEST_ACCEPT } from './media-types.js';

/** A tag as the distribution spec allows it. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** The largest manifest or index read (distribution's own limit is 4 MiB). */
export const MANIFEST_MAX = 4 * 1024 * 1024;

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

async function readCapped(body: Body, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      body.destroy();
      throw new StrataError(`${what} is larger than ${max} bytes`);
    }
    parts.push(c);
  }
  return Buffer.concat(parts);
}

export class Repository {
  constructor(
    readonly transport: Transport,
    /** The path inside the registry: "library/busybox". */
    readonly name: string,
    /** Ask for push rights too (tokens are per scope). */
    readonly push = false,
  ) {}

  scopes(extra: string[] = []): string[] {
    return [`repository:${this.name}:${this.push ? 'pull,push' : 'pull'}`, ...extra];
  }

  /** A manifest or index by tag or digest; by digest its bytes must hash to it. */
  async manifest(reference: string): Promise<FetchedManifest> {
    const byDigest = reference.startsWith('sha256:');
    if (byDigest) assertDigest(reference);
    const res = await this.transport.request('GET', `/v2/${this.name}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT }, scopes: this.scopes() });
    const length = Number(header(res, 'content-length') ?? 0);
    if (length > MANIFEST_MAX) {
      res.body.destroy();
      throw new StrataError(`manifest "${reference}" is larger than ${MANIFEST_MAX} bytes`);
    }
    const bytes = await readCapped(res.body, MANIFEST_MAX, `manifest "${reference}"`);
    const digest = sha256Digest(bytes);
    const announced = header(res, 'docker-content-digest');
    if (byDigest && digest !== reference) throw new StrataError(`manifest digest mismatch: asked for "${reference}", got "${digest}"`);
    if (!byDigest && announced && isDigest(announced) && announced !== digest) throw new StrataError(`manifest digest mismatch: registry announced "${announced}", content is "${digest}"`);
    let mediaType = (header(res, 'content-type') ?? '').split(';')[0].trim();
    try {
      const j = JSON.parse(bytes.toString('utf8')) as { mediaType?: string };
      if (j.mediaType) mediaType = j.mediaType;
    } catch {
      throw new StrataError(`manifest "${reference}" is not valid JSON`);
    }
    return { bytes, digest, mediaType };
  }

  /** Every tag of the repository: the tags list, page after page as its Link header says. */
  async tags(): Promise<string[]> {
    const out: string[] = [];
    let next: string | undefined = `/v2/${this.name}/tags/list?n=1000`;
    for (let page = 0; next; page++) {
      if (page >= 1000) throw new StrataError(`the tags list of "${this.name}" has too many pages`);
      const res = await this.transport.request('GET', next, { scopes: this.scopes() });
      const link = header(res, 'link');
      let doc: { tags?: unknown };
      try {
        doc = JSON.parse((await readCapped(res.body, MANIFEST_MAX, 'tags list')).toString('utf8')) as { tags?: unknown };
      } catch (err) {
        if (err instanceof StrataError) throw err;
        throw new StrataError(`the tags list of "${this.name}" is not valid JSON`);
      }
      const tags = doc.tags ?? [];
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || !TAG.test(t))) throw new StrataError(`the tags list of "${this.name}" is invalid`);
      out.push(...(tags as string[]));
      const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      next = m ? new URL(m[1], await this.transport.origin()).href : undefined;
    }
    return [...new Set(out)];
  }

  /** The digest a tag points to (HEAD), or undefined when unknown. */
  async manifestDigest(reference: string): Promise<string | undefined> {
    return (await this.manifestHead(reference))?.digest;
  }

  /** The digest a tag points to and the manifest's size as announced (HEAD; size undefined when not announced). */
  async manifestHead(reference: string): Promise<{ digest: string; size?: number } | undefined> {
    const res = await this.transport.request('HEAD', `/v2/${this.name}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT }, scopes: this.scopes(), ok: (s) => s === 200 || s === 404 });
    await res.body.dump();
    const d = header(res, 'docker-content-digest');
    if (res.status !== 200 || !isDigest(d)) return undefined;
    const size = Number(header(res, 'content-length'));
    return { digest: d, size: Number.isSafeInteger(size) && size > 0 ? size : undefined };
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.transport.request('PUT', `/v2/${this.name}/manifests/${reference}`, { headers: { 'content-type': mediaType }, body: bytes, scopes: this.scopes() });
    await res.body.dump();
    return sha256Digest(bytes);
  }

  /** The blob's size if the repository has it. */
  async blobSize(digest: string): Promise<number | undefined> {
    const res = await this.transport.request('HEAD', `/v2/${this.name}/blobs/${assertDigest(digest)}`, { scopes: this.scopes(), ok: (s) => s === 200 || s === 404 });
    await res.body.dump();
    return res.status === 200 ? Number(header(res, 'content-length') ?? 0) : undefined;
  }

  /** A blob's bytes from `offset` on; `offset` is honoured only if the registry answered 206. */
  async blob(digest: string, offset = 0): Promise<{ body: Body; offset: number; total?: number }> {
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const res = await this.transport.request('GET', `/v2/${this.name}/blobs/${assertDigest(digest)}`, { headers, scopes: this.scopes() });
    const length = Number(header(res, 'content-length') ?? NaN);
    if (res.status === 206) {
      const range = /bytes (\d+)-\d+\/(\d+|\*)/.exec(header(res, 'content-range') ?? '');
      if (range && Number(range[1]) === offset) return { body: res.body, offset, total: range[2] === '*' ? undefined : Number(range[2]) };
      res.body.destroy();
      return this.blob(digest, 0);
    }
    return { body: res.body, offset: 0, total: Number.isFinite(length) ? length : undefined };
  }

  /** Mounts a blob from another repository of the same registry; true if it was mounted. */
  async mount(digest: string, from: string): Promise<boolean | string> {
    const res = await this.transport.request('POST', `/v2/${this.name}/blobs/uploads/?mount=${encodeURIComponent(assertDigest(digest))}&from=${encodeURIComponent(from)}`, {
      scopes: this.scopes([`repository:${from}:pull`]), ok: (s) => s === 201 || s === 202,
    });
    await res.body.dump();
    if (res.status === 201) return true;
    // 202: not mounted, an upload session was opened instead.
    return this.location(res);
  }

  private async location(res: { headers: Record<string, string | string[] | undefined> }): Promise<string> {
    const loc = header(res, 'location');
    if (!loc) throw new RegistryError('registry opened an upload without a location');
    return new URL(loc, await this.transport.origin()).href;
  }

  async startUpload(): Promise<string> {
    const res = await this.transport.request('POST', `/v2/${this.name}/blobs/uploads/`, { scopes: this.scopes(), ok: (s) => s === 202 });
    await res.body.dump();
    return this.location(res);
  }

  /** One PUT with the whole blob (small blobs: configs, small layers). */
  async uploadWhole(location: string, digest: string, bytes: Buffer): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await this.transport.request('PUT', url.href, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, body: bytes, scopes: this.scopes(), ok: (s) => s === 201 });
    await res.body.dump();
  }

  /**
   * Sends a stream of unknown length in one PATCH (no Content-Range: the body streams, chunked
   * transfer encoding, as docker and containers/image send a layer they compress on the way),
   * then PUTs the digest, known once the stream has ended. The source is pulled only as fast
   * as the socket takes it, so nothing but what is on its way is held in memory; `onWritten`
   * gets each buffer back once the socket is done with it.
   */
  async uploadStream(location: string, digest: () => string | Promise<string>, chunks: AsyncIterable<Buffer>, onWritten?: (b: Buffer) => void): Promise<void> {
    // What the source threw (a damaged layer) is the error, not the request it broke off.
    let failed: { err: unknown } | undefined;
    const body = (async function* () {
      try {
        yield* chunks;
      } catch (err) {
        failed = { err };
        throw err;
      }
    })();
    let res;
    try {
      res = await this.transport.request('PATCH', location, { headers: { 'content-type': 'application/octet-stream' }, body, onWritten, scopes: this.scopes(), ok: (s) => s === 202 });
    } catch (err) {
      throw failed ? failed.err : err;
    }
    await res.body.dump();
    const put = new URL(await this.location(res));
    put.searchParams.set('digest', await digest());
    const done = await this.transport.request('PUT', put.href, { headers: { 'content-length': '0' }, body: Buffer.alloc(0), scopes: this.scopes(), ok: (s) => s === 201 });
    await done.body.dump();
  }

  /**
   * PATCHes the stream in chunks of about `chunkSize` (each a request of its own, so a big layer
   * is never one request nor in memory whole), then PUTs the digest. `chunks` yields Buffers.
   * The next chunk is gathered while the last one is on its way (the source, a compression,
   * never waits for the registry), and a chunk is sent as the buffers it was gathered from.
   */
  async uploadChunked(location: string, digest: () => string | Promise<string>, chunks: AsyncIterable<Buffer>, chunkSize: number): Promise<void> {
    let url = location;
    let offset = 0;
    let batch: Buffer[] = [];
    let batchLen = 0;
    const send = async (body: Buffer[], length: number) => {
      const res = await this.transport.request('PATCH', url, {
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + length - 1}`, 'content-length': String(length) },
        body, scopes: this.scopes(), ok: (s) => s === 202,
      });
      await res.body.dump();
      offset += length;
      url = await this.location(res);
    };
    let inFlight: Promise<void> = Promise.resolve();
    const flush = async () => {
      await inFlight;
      if (batchLen === 0) return;
      inFlight = send(batch, batchLen);
      inFlight.catch(() => undefined); // awaited at the next flush or below
      batch = [];
      batchLen = 0;
    };
    for await (const c of chunks) {
      batch.push(c);
      batchLen += c.length;
      if (batchLen >= chunkSize) await flush();
    }
    await flush();
    await inFlight;
    const put = new URL(url);
    put.searchParams.set('digest', await digest());
    const res = await this.transport.request('PUT', put.href, { headers: { 'content-length': '0' }, body: Buffer.alloc(0), scopes: this.scopes(), ok: (s) => s === 201 });
    await res.body.dump();
  }
}
