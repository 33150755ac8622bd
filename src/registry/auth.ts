// Authorization for one registry: the challenge it sends (from the /v2/ ping, or a 401), then
// Basic credentials, or a bearer token from the challenge's realm for the scopes a request
// needs (distribution's token spec; an identity token is exchanged by the OAuth2 refresh
// grant). Tokens are cached per set of scopes for their lifetime.
import { parseChallenges, type Challenge } from './challenge.js';
import { credentialsFor, type Credentials } from './credentials.js';
import { RegistryError, errorFromResponse, networkError } from './errors.js';
import { httpRequest, type Agent, type HttpResponse } from './http.js';

type Headers = Record<string, string | string[] | undefined>;

export class Authorizer {
  private challenge?: Challenge;
  private creds?: Promise<Credentials | undefined>;
  private tokens = new Map<string, { value: string; expires: number }>();
  /** Set once credentials were rejected, so the message can say so. */
  usedCredentials = false;

  constructor(
    readonly domain: string,
    private readonly given: Credentials | null | undefined,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private credentials(): Promise<Credentials | undefined> {
    this.creds ??= this.given === null ? Promise.resolve(undefined) : this.given ? Promise.resolve(this.given) : credentialsFor(this.domain, this.env);
    return this.creds;
  }

  /** Takes the challenge from a response; true if it changed what to send (worth a retry). */
  learn(status: number, headers: Headers, scopes: string[] = []): boolean {
    if (status !== 401) return false;
    const all = parseChallenges(headers['www-authenticate'] as string | string[] | undefined);
    const pick = all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
    if (!pick) return false;
    const changed = JSON.stringify(pick) !== JSON.stringify(this.challenge);
    this.challenge = pick;
    // A bearer challenge naming the scope it wants: its token is stale or too narrow.
    if (pick.scheme === 'bearer') this.tokens.delete(scopeKey(scopes));
    return changed || pick.scheme === 'bearer';
  }

  /** The Authorization header for a request needing `scopes`, or undefined (anonymous). */
  async header(scopes: string[], agent: Agent, fresh = false): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    const creds = await this.credentials();
    if (ch.scheme === 'basic') {
      if (!creds) return undefined;
      this.usedCredentials = true;
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (ch.scheme !== 'bearer') return undefined;
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached && !fresh && cached.expires > Date.now()) return `Bearer ${cached.value}`;
    const token = await this.fetchToken(ch, scopes, creds, agent);
    this.tokens.set(key, token);
    return `Bearer ${token.value}`;
  }

  private async fetchToken(ch: Challenge, scopes: string[], creds: Credentials | undefined, agent: Agent): Promise<{ value: string; expires: number }> {
    const realm = ch.params.realm;
    if (!realm || !/^https?:\/\//.test(realm)) throw new RegistryError(`registry "${this.domain}" sent a bearer challenge without a usable realm`);
    const url = new URL(realm);
    let res: HttpResponse;
    try {
      if (creds?.identityToken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'strata', service: ch.params.service ?? '', scope: scopes.join(' ') });
        res = await httpRequest(url, { method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, agent });
      } else {
        if (ch.params.service) url.searchParams.set('service', ch.params.service);
        for (const s of scopes) url.searchParams.append('scope', s);
        const headers: Record<string, string> = {};
        if (creds) {
          this.usedCredentials = true;
          headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
        }
        res = await httpRequest(url, { method: 'GET', headers, agent });
      }
    } catch (err) {
      throw networkError(url.href, err);
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw new RegistryError(creds ? 'unauthorized: incorrect username or password' : 'unauthorized: authentication required', res.statusCode, 'UNAUTHORIZED');
    }
    if (res.statusCode !== 200) throw await errorFromResponse({ status: res.statusCode, body: res.body }, 'GET', url.href);
    const j = (await res.body.json().catch(() => ({}))) as { token?: string; access_token?: string; expires_in?: number };
    const value = j.token ?? j.access_token;
    if (!value) throw new RegistryError(`token server "${url.host}" returned no token`);
    // Renewed a little early; the spec's default lifetime is 60 s.
    return { value, expires: Date.now() + Math.max(10, (j.expires_in ?? 60) - 5) * 1000 };
  }
}

const scopeKey = (scopes: string[]) => [...scopes].sort().join(' ');
