// HTTP to one registry endpoint: which scheme (https, verified; plain http only for loopback
// hosts, insecure-listed ones or --tls-verify=false, after https failed its handshake), the
// TLS trust (tls.ts), authorization from the /v2/ ping's challenge (auth.ts), and redirects
// followed by hand so that credentials never go to another host.
import { StrataError } from '../errors.js';
import { Authorizer } from './auth.js';
import { isInsecure, isLoopback, type RegistriesConfig } from './config.js';
import type { Credentials } from './credentials.js';
import { RegistryError, errorFromResponse, insufficientScope, networkError } from './errors.js';
import { httpRequest, makeAgent, type Agent, type Body, type HttpResponse } from './http.js';
import { isCertificateError, isNotTls, tlsOptionsFor } from './tls.js';

export type { Body };

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Body;
  /** The URL that answered (after redirects). */
  url: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** A Buffer or Buffer[] (sent again after a 401 if need be), or a stream (sent once). */
  body?: Buffer | Buffer[] | AsyncIterable<Buffer> | null;
  /** A stream's buffers, each once the socket is done with it (http.ts). */
  onWritten?: (b: Buffer) => void;
  /** Token scopes the request needs ("repository:a/b:pull"). */
  scopes?: string[];
  /** Statuses that are not errors (default: 2xx). */
  ok?: (status: number) => boolean;
  signal?: AbortSignal;
}

export interface EndpointOptions {
  config: RegistriesConfig;
  /** false: --tls-verify=false (https unverified, http allowed). */
  tlsVerify?: boolean;
  /** Credentials to use (login); undefined: looked up in the credential stores. */
  credentials?: Credentials | null;
  env?: NodeJS.ProcessEnv;
}

const agents: Agent[] = [];

/** Waits before asking a GET or HEAD again after a passing failure; the length is the number of retries. */
export const RETRY_DELAYS_MS = [50, 250, 1000];
/** The longest Retry-After honoured; a longer one is a registry asking for minutes, not a retry. */
const MAX_RETRY_AFTER_MS = 5000;

/** A status that says "not now" rather than "no": worth asking again. */
function isPassingFailure(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/**
 * Reads, and a manifest PUT (sending the same bytes again asks for the same result); not the
 * steps of a blob upload, whose session a failed step may have consumed or moved on.
 */
function isRepeatable(method: string, pathOrUrl: string, o: RequestOptions): boolean {
  if (method === 'GET' || method === 'HEAD') return !o.body;
  return method === 'PUT' && Buffer.isBuffer(o.body) && /\/manifests\/[^/]+$/.test(new URL(pathOrUrl, 'http://x').pathname);
}

function retryDelay(res: Response, attempt: number): number {
  const after = Number(header(res, 'retry-after'));
  if (Number.isFinite(after) && after >= 0 && after * 1000 <= MAX_RETRY_AFTER_MS) return Math.max(after * 1000, RETRY_DELAYS_MS[attempt]!);
  return RETRY_DELAYS_MS[attempt]!;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Closes every connection this process opened to registries. */
export async function closeTransports(): Promise<void> {
  for (const a of agents.splice(0)) a.destroy();
}

export function header(res: { headers: Response['headers'] }, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export class Transport {
  private base?: Promise<{ origin: string; agent: Agent }>;
  /** A loopback endpoint found not to speak plain http (straight()): the ping goes to https. */
  private notHttp = false;
  readonly auth: Authorizer;

  /** `host`: the endpoint ("127.0.0.1:5000", "registry-1.docker.io"), or a URL with its scheme (a mirror). `domain`: the credentials' key. */
  constructor(readonly host: string, readonly domain: string, readonly o: EndpointOptions) {
    this.auth = new Authorizer(domain, o.credentials, o.env);
  }

  private hostPort(): string {
    return this.host.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  }

  private makeAgent(secure: boolean, verify: boolean, fullTrust = false): Agent {
    const agent = makeAgent(secure, secure ? tlsOptionsFor(this.hostPort(), this.o.config.certsDirs, verify, fullTrust) : {});
    agents.push(agent);
    return agent;
  }

  /** Finds the scheme that works and reads the /v2/ challenge (once per process and endpoint). */
  private endpoint(): Promise<{ origin: string; agent: Agent }> {
    this.base ??= (async () => {
      const hp = this.hostPort();
      const explicitHttp = this.host.startsWith('http://');
      const insecure = this.o.tlsVerify === false || isInsecure(this.o.config, hp);
      const mayHttp = explicitHttp || insecure || isLoopback(hp);
      const ping = async (origin: string, agent: Agent) => {
        const res = await httpRequest(`${origin}/v2/`, { method: 'GET', agent });
        await res.body.dump();
        return res;
      };
      const accept = (res: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => {
        this.auth.learn(res.statusCode, res.headers);
        if (res.statusCode >= 500) throw new RegistryError(`registry "${hp}" answered ${res.statusCode} to /v2/`, res.statusCode);
      };
      const tryPing = async (origin: string, agent: Agent) => accept(await ping(origin, agent));
      // A loopback registry is asked over http first: a TLS client context costs ~100 ms of CPU
      // (Node's roots), more than a whole warm pull. A registry that speaks https answers an
      // http request with 400 (or drops it); it is then asked over https as any other.
      if (isLoopback(hp) && !explicitHttp && !this.notHttp) {
        const agent = this.makeAgent(false, false);
        const res = await ping(`http://${hp}`, agent).catch(() => undefined);
        if (res && (res.statusCode === 200 || res.statusCode === 401)) {
          accept(res);
          return { origin: `http://${hp}`, agent };
        }
      }
      if (!explicitHttp) {
        let agent = this.makeAgent(true, !insecure);
        try {
          try {
            await tryPing(`https://${hp}`, agent);
          } catch (err) {
            if (!isCertificateError(err)) throw err;
            // Node's roots did not verify it: again with the system's bundle and every extra CA.
            agent = this.makeAgent(true, !insecure, true);
            await tryPing(`https://${hp}`, agent);
          }
          return { origin: `https://${hp}`, agent };
        } catch (err) {
          if (err instanceof StrataError) throw err;
          if (isCertificateError(err)) throw networkError(`https://${hp}/v2/`, err, 'certificate');
          if (!mayHttp || !isNotTls(err)) throw networkError(`https://${hp}/v2/`, err);
        }
      }
      const agent = this.makeAgent(false, false);
      try {
        await tryPing(`http://${hp}`, agent);
      } catch (err) {
        if (err instanceof StrataError) throw err;
        throw networkError(`http://${hp}/v2/`, err);
      }
      return { origin: `http://${hp}`, agent };
    })();
    this.base.catch(() => (this.base = undefined));
    return this.base;
  }

  /** The registry's origin ("https://host:port"), after the ping. */
  async origin(): Promise<string> {
    return (await this.endpoint()).origin;
  }

  /**
   * One request; a 401 is answered once by authorizing again (when the body can be sent again).
   * A request that may be repeated (isRepeatable) and that the registry answers with a passing
   * failure (5xx, 429) is asked again, after RETRY_DELAYS_MS: a registry may fail a read while
   * another client writes what it reads (docker-registry answers 500 to a HEAD of a tag whose
   * link file is being rewritten).
   */
  async request(method: string, pathOrUrl: string, o: RequestOptions = {}): Promise<Response> {
    const ok = o.ok ?? ((s) => s >= 200 && s < 300);
    const mayRetry = isRepeatable(method, pathOrUrl, o);
    for (let attempt = 0; ; attempt++) {
      const res = await this.exchange(method, pathOrUrl, o);
      if (ok(res.status)) return res;
      if (!mayRetry || attempt >= RETRY_DELAYS_MS.length || !isPassingFailure(res.status)) throw await errorFromResponse(res, method, pathOrUrl);
      await res.body.dump().catch(() => undefined);
      await sleep(retryDelay(res, attempt), o.signal);
    }
  }

  /** One exchange, a 401 answered as request() says; whether its status is a failure is request()'s to judge. */
  private async exchange(method: string, pathOrUrl: string, o: RequestOptions): Promise<Response> {
    const scopes = o.scopes ?? [];
    let authz: string | undefined;
    let url: string;
    let res: Response;
    let agent: Agent;
    const first = this.base === undefined && this.mayGoStraight(method, pathOrUrl, o) ? await this.straight(method, pathOrUrl, o) : undefined;
    if (first) ({ res, agent, url } = first);
    else {
      const base = await this.endpoint();
      agent = base.agent;
      url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${base.origin}${pathOrUrl}`;
      authz = await this.auth.header(scopes, agent);
      res = await this.send(method, url, o, authz, agent);
    }
    const replayable = !o.body || Buffer.isBuffer(o.body) || Array.isArray(o.body);
    if (res.status === 401 && replayable) {
      await res.body.dump();
      if (this.auth.learn(401, res.headers, scopes) || !authz) {
        authz = await this.auth.header(scopes, agent, true);
        res = await this.send(method, url, o, authz, agent);
      }
    }
    // Credentials that got a token without the access asked for (insufficient_scope) are right,
    // the access is what is missing: errorFromResponse says DENIED.
    if (res.status === 401 && authz && this.auth.usedCredentials && !insufficientScope(res.headers)) {
      await res.body.dump();
      throw new RegistryError('unauthorized: incorrect username or password', 401, 'UNAUTHORIZED');
    }
    return res;
  }

  /** A loopback registry's first GET or HEAD may stand in for the /v2/ ping (straight()). */
  private mayGoStraight(method: string, pathOrUrl: string, o: RequestOptions): boolean {
    return (method === 'GET' || method === 'HEAD') && !o.body && pathOrUrl.startsWith('/v2/') && !this.notHttp
      && !/^https:\/\//.test(this.host) && isLoopback(this.hostPort());
  }

  /**
   * The first request to a loopback registry goes straight over http, anonymous, instead of
   * after a ping of /v2/: one round trip less for a warm pull or push. The answer tells what the
   * ping would have: a registry answers 2xx, 401 (its challenge, learned by request()) or an error
   * of its API (Docker-Distribution-Api-Version); anything else (an https server answers 400 or
   * drops the connection, a 5xx) and the usual ping decides, as if this request never happened.
   * Requests made meanwhile wait for the outcome (this.base).
   */
  private async straight(method: string, path: string, o: RequestOptions): Promise<{ res: Response; agent: Agent; url: string } | undefined> {
    const hp = this.hostPort();
    const agent = this.makeAgent(false, false);
    const origin = `http://${hp}`;
    let settle!: (ok: boolean) => void;
    const outcome = new Promise<boolean>((resolve) => (settle = resolve));
    const base: Promise<{ origin: string; agent: Agent }> = outcome.then((ok) => {
      if (ok) return { origin, agent };
      if (this.base === base) this.base = undefined;
      return this.endpoint();
    });
    this.base = base;
    base.catch(() => undefined); // its waiters see the failure; endpoint() resets this.base
    const url = `${origin}${path}`;
    let res: Response;
    try {
      res = await this.send(method, url, o, undefined, agent);
    } catch {
      this.notHttp = true;
      settle(false);
      return undefined;
    }
    const registry = res.status < 500 && ((res.status >= 200 && res.status < 300) || res.status === 401 || header(res, 'docker-distribution-api-version') !== undefined);
    if (!registry) {
      await res.body.dump().catch(() => undefined);
      if (res.status === 400) this.notHttp = true;
      settle(false);
      return undefined;
    }
    settle(true);
    return { res, agent, url };
  }

  /** Sends one request and follows redirects; Authorization goes only to the registry's own origin. */
  private async send(method: string, url: string, o: RequestOptions, authz: string | undefined, agent: Agent): Promise<Response> {
    const home = new URL(url).origin;
    let current = url;
    for (let hop = 0; ; hop++) {
      const sameHost = new URL(current).origin === home;
      const headers: Record<string, string> = { ...o.headers };
      if (authz && sameHost) headers.authorization = authz;
      let res: HttpResponse;
      try {
        // Another host gets a connection of its own, not the registry's agent (nor its client certificate).
        res = await httpRequest(current, { method, headers, body: o.body ?? undefined, onWritten: o.onWritten, agent: sameHost ? agent : undefined, signal: o.signal });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        throw networkError(current, err, isCertificateError(err) ? 'certificate' : undefined);
      }
      const location = header(res, 'location');
      if (res.statusCode >= 300 && res.statusCode < 400 && location && (method === 'GET' || method === 'HEAD')) {
        await res.body.dump();
        if (hop >= 5) throw new StrataError(`too many redirects from "${url}"`);
        current = new URL(location, current).href;
        continue;
      }
      return { status: res.statusCode, headers: res.headers, body: res.body, url: current };
    }
  }
}
