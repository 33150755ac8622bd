// `login` and `logout`: credentials checked against the registry (its /v2/ answered with them:
// Basic, or a token fetched with them) before they are stored as `docker login` stores them.
import { StrataError } from '../errors.js';
import { parseReference } from '../store/index.js';
import { apiHost, type RegistryOptions } from './endpoints.js';
import { credentialsFor, eraseCredentials, storeCredentials, type Credentials } from './credentials.js';
import { configOf } from './endpoints.js';
import { Transport } from './transport.js';

export interface LoginOptions extends RegistryOptions {
  username: string;
  password: string;
}

/** "https://host:5000/" or "host:5000" → "host:5000"; nothing (or Docker Hub's URLs) → "docker.io". */
export function registryDomain(text: string | undefined): string {
  if (!text) return 'docker.io';
  const host = text.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'docker.io') return 'docker.io';
  if (!host) throw new StrataError(`invalid registry "${text}"`);
  return parseReference(`${host}/x`).domain === 'docker.io' ? 'docker.io' : host;
}

/** Checks the credentials with the registry, then stores them. Returns the file written. */
export async function login(registry: string | undefined, o: LoginOptions): Promise<string> {
  const domain = registryDomain(registry);
  if (!o.username) throw new StrataError('username is required');
  if (!o.password) throw new StrataError('password is required');
  const creds: Credentials = { username: o.username, password: o.password };
  const t = new Transport(apiHost(domain), domain, { config: configOf(o), tlsVerify: o.tlsVerify, credentials: creds, env: o.env });
  try {
    const res = await t.request('GET', '/v2/', { scopes: [] });
    await res.body.dump();
  } catch (err) {
    if (err instanceof StrataError) throw new StrataError(`logging in to "${domain}": ${err.message}`, err.exitCode, { cause: err });
    throw err;
  }
  return storeCredentials(domain, creds, o.env);
}

/** The username of the credentials kept for REGISTRY, if any (`login`'s default, as Docker's). */
export async function storedUsername(registry: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  try {
    return (await credentialsFor(registryDomain(registry), env))?.username || undefined;
  } catch {
    return undefined; // a credential helper that fails asks for nothing here
  }
}

/** Forgets the registry's credentials; false if there were none. */
export function logout(registry: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return eraseCredentials(registryDomain(registry), env);
}
