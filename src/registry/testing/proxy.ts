// A proxy in front of the real registry that misbehaves on purpose, for the bad-input tests:
// it flips a byte of a manifest or a layer, serves an oversized manifest, cuts a download
// short, rewrites a manifest, or redirects blob downloads to another host (127.0.0.2) that
// records the Authorization header it was sent, or fails requests with a 5xx a few times.
// Everything else passes through unchanged.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Tamper =
  | { kind: 'none' }
  | { kind: 'flip-manifest' }
  | { kind: 'huge-manifest' }
  | { kind: 'flip-blob'; digest: string }
  | { kind: 'truncate-blob'; digest: string; keep: number }
  | { kind: 'rewrite-manifest'; rewrite: (text: string) => string }
  | { kind: 'redirect-blobs' }
  /** Answers `times` requests matching "METHOD /path" with `status` (a registry's passing failure), then passes them on. */
  | { kind: 'fail'; match: RegExp; status: number; times: number };

export interface Proxy {
  host: string;
  tamper: Tamper;
  /** Authorization headers the redirect target received (undefined: none sent). */
  redirectedAuth: (string | undefined)[];
  /** Every request the proxy received, as "METHOD /path" (a test may empty it). */
  requests: string[];
  close(): Promise<void>;
}

function forward(target: string, req: http.IncomingMessage, body: Buffer, headers: http.OutgoingHttpHeaders = req.headers): Promise<{ res: http.IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const up = http.request(`${target}${req.url}`, { method: req.method, headers: { ...headers, host: new URL(target).host } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ res, body: Buffer.concat(parts) }));
    });
    up.on('error', reject);
    up.end(body);
  });
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function listen(server: http.Server, host: string): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

/** `target`: the registry's URL; `redirectAuth`: the Authorization the redirect target itself uses upstream. */
export async function startProxy(target: string, redirectAuth?: string): Promise<Proxy> {
  const redirectedAuth: (string | undefined)[] = [];
  const other = http.createServer((req, res) => {
    redirectedAuth.push(req.headers.authorization);
    void readBody(req).then(async (body) => {
      const headers = { ...req.headers, ...(redirectAuth ? { authorization: redirectAuth } : {}) };
      const up = await forward(target, req, body, headers);
      res.writeHead(up.res.statusCode ?? 502, up.res.headers).end(up.body);
    });
  });
  const otherPort = await listen(other, '127.0.0.2');
  const proxy: Proxy = { host: '', tamper: { kind: 'none' }, redirectedAuth, requests: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    proxy.requests.push(`${req.method} ${req.url}`);
    void (async () => {
      const body = await readBody(req);
      const t = proxy.tamper;
      const isManifest = /\/manifests\//.test(req.url ?? '') && req.method === 'GET';
      const blob = /\/blobs\/(sha256:[a-f0-9]{64})/.exec(req.url ?? '')?.[1];
      if (t.kind === 'fail' && t.times > 0 && t.match.test(`${req.method} ${req.url}`)) {
        t.times--;
        const error = JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'unknown error', detail: 'failed by the test proxy' }] });
        res.writeHead(t.status, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' }).end(req.method === 'HEAD' ? undefined : error);
        return;
      }
      if (t.kind === 'redirect-blobs' && blob && req.method === 'GET') {
        res.writeHead(307, { location: `http://127.0.0.2:${otherPort}${req.url}` }).end();
        return;
      }
      if (t.kind === 'huge-manifest' && isManifest) {
        const huge = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', pad: 'x'.repeat(5 * 1024 * 1024) }));
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(huge);
        return;
      }
      const up = await forward(target, req, body);
      const headers = { ...up.res.headers };
      let out = up.body;
      if (isManifest && up.res.statusCode === 200 && (t.kind === 'flip-manifest' || t.kind === 'rewrite-manifest')) {
        const text = out.toString('utf8');
        out = Buffer.from(t.kind === 'flip-manifest' ? text.replace('"schemaVersion":2', '"schemaVersion": 2') : t.rewrite(text));
        if (t.kind === 'rewrite-manifest') delete headers['docker-content-digest'];
        headers['content-length'] = String(out.length);
      }
      if (blob && req.method === 'GET' && t.kind === 'flip-blob' && t.digest === blob && out.length > 100) {
        out = Buffer.from(out);
        out[out.length - 20] ^= 0xff;
      }
      if (blob && req.method === 'GET' && t.kind === 'truncate-blob' && t.digest === blob) {
        // Announce the whole length, send part of it, and drop the connection.
        res.writeHead(up.res.statusCode ?? 200, headers);
        res.write(out.subarray(0, t.keep), () => setTimeout(() => res.socket?.destroy(), 50));
        return;
      }
      res.writeHead(up.res.statusCode ?? 502, headers).end(out);
    })().catch(() => res.socket?.destroy());
  });
  const port = await listen(server, '127.0.0.1');
  proxy.host = `127.0.0.1:${port}`;
  proxy.close = async () => {
    server.closeAllConnections();
    other.closeAllConnections();
    await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => other.close(r))]);
  };
  return proxy;
}
