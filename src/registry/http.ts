// HTTP/1.1 requests on Node's own http and https modules with keep-alive agents. undici (what
// fetch() is made of) costs 150-250 ms of start-up to load, more than a whole warm push; these
// modules are loaded in a few milliseconds and stream both ways. https (and tls under it) is
// loaded only for an https registry: a loopback registry on plain http never needs it.
import http from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';

/** A built-in module loaded on first use (the same in dist/ and in the CLI's CommonJS bundles). */
const builtin = createRequire('/');
let httpsModule: typeof https | undefined;
const lazyHttps = (): typeof https => (httpsModule ??= builtin('node:https') as typeof https);

/** A response body: the message stream, with the helpers the client uses. */
export interface Body extends AsyncIterable<Buffer> {
  /** Reads and discards the rest (so the connection can be reused). */
  dump(): Promise<void>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  destroy(err?: Error): void;
}

export interface HttpResponse {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: Body;
}

export type Agent = http.Agent | https.Agent;

export interface HttpRequestOptions {
  method: string;
  headers?: Record<string, string>;
  /**
   * Buffer[]: written one after the other (no copy into one buffer). An async iterable is
   * written as it yields, read on only once the socket has taken what was written.
   */
  body?: Buffer | Buffer[] | string | Readable | AsyncIterable<Buffer>;
  /** Called with each buffer of an async iterable body once the socket is done with it (its memory may be reused). */
  onWritten?: (b: Buffer) => void;
  /** Used when its protocol matches the URL's; otherwise a one-off agent of the right kind. */
  agent?: Agent;
  signal?: AbortSignal;
}

function bodyOf(msg: http.IncomingMessage): Body {
  const read = async () => {
    const parts: Buffer[] = [];
    for await (const c of msg) parts.push(c as Buffer);
    return Buffer.concat(parts).toString('utf8');
  };
  return {
    [Symbol.asyncIterator]: () => msg[Symbol.asyncIterator](),
    dump: async () => {
      // Even a complete message must be read to its end: only then is its socket free for the
      // next request (a keep-alive agent that runs out of sockets waits forever).
      if (msg.readableEnded || msg.destroyed) return;
      msg.resume();
      await new Promise<void>((resolve) => {
        msg.once('end', resolve);
        msg.once('close', resolve);
        msg.once('error', () => resolve());
      });
    },
    text: read,
    json: async () => JSON.parse(await read()) as unknown,
    destroy: (err?: Error) => msg.destroy(err),
  };
}

export function httpRequest(url: string | URL, o: HttpRequestOptions): Promise<HttpResponse> {
  const u = typeof url === 'string' ? new URL(url) : url;
  const secure = u.protocol === 'https:';
  const mod = secure ? lazyHttps() : http;
  // No matching agent: a connection of its own, closed after the response (agent: false).
  const agent = o.agent && ((o.agent as { protocol?: string }).protocol === 'https:') === secure ? o.agent : false;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: o.method, headers: o.headers, agent, signal: o.signal }, (res) => {
      resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: bodyOf(res) });
    });
    req.on('error', reject);
    const body = o.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else if (Array.isArray(body)) {
      for (const b of body) req.write(b);
      req.end();
    } else if (isReadable(body)) {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    } else writeAll(req, body, o.onWritten).catch((err: unknown) => req.destroy(err as Error));
  });
}

function isReadable(b: object): b is Readable {
  return typeof (b as Readable).pipe === 'function';
}

/** Writes what `body` yields, waiting for the socket to drain; ends the request. */
async function writeAll(req: http.ClientRequest, body: AsyncIterable<Buffer>, onWritten?: (b: Buffer) => void): Promise<void> {
  for await (const b of body) {
    if (req.destroyed) break;
    const ok = req.write(b, onWritten ? (err) => void (err || onWritten(b)) : undefined);
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = () => {
          req.off('drain', done);
          req.off('close', done);
          resolve();
        };
        req.on('drain', done);
        req.on('close', done);
      });
    }
  }
  if (!req.destroyed) req.end();
}

/** A keep-alive agent for one registry: https with its TLS settings, or plain http. */
export function makeAgent(secure: boolean, tls: { ca?: string[]; cert?: string; key?: string; rejectUnauthorized?: boolean }): Agent {
  return secure
    ? new (lazyHttps().Agent)({ keepAlive: true, maxSockets: 16, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized })
    : new http.Agent({ keepAlive: true, maxSockets: 16 });
}
