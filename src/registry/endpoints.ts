// From an image reference to the registries asked: Docker Hub's names live at
// registry-1.docker.io; pulls try the configured mirrors first, then the registry itself
// (unless the config blocks it); pushes go to the registry only. Short names may be aliased.
// One Transport per endpoint and process, so the /v2/ ping and tokens are shared.
import { StrataError } from '../errors.js';
import { formatReference, parseReference, type Reference } from '../store/index.js';
import { isBlocked, loadRegistriesConfig, type RegistriesConfig } from './config.js';
import type { Credentials } from './credentials.js';
import { Transport } from './transport.js';

export interface RegistryOptions {
  config?: RegistriesConfig;
  /** false: --tls-verify=false. */
  tlsVerify?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Credentials to use instead of the stores' (login checks them this way). */
  credentials?: Credentials | null;
}

const transports = new Map<string, Transport>();

/** Where a registry domain's API lives. */
export function apiHost(domain: string): string {
  return domain === 'docker.io' ? 'registry-1.docker.io' : domain;
}

export function configOf(o: RegistryOptions): RegistriesConfig {
  o.config ??= loadRegistriesConfig(o.env);
  return o.config;
}

function transport(host: string, domain: string, o: RegistryOptions): Transport {
  const key = `${host}\0${domain}\0${o.tlsVerify === false}\0${o.credentials ? JSON.stringify(o.credentials) : o.credentials === null ? 'anon' : ''}`;
  let t = transports.get(key);
  if (!t) {
    t = new Transport(host, domain, { config: configOf(o), tlsVerify: o.tlsVerify, credentials: o.credentials, env: o.env });
    transports.set(key, t);
  }
  return t;
}

/** The repository part of a user's text ("node" of "node:20", "a/b" of "a/b@sha256:..."). */
function repoPart(text: string): string {
  const at = text.search(/[@]/);
  const namePart = at < 0 ? text : text.slice(0, at);
  const colon = namePart.lastIndexOf(':');
  return colon > namePart.lastIndexOf('/') ? namePart.slice(0, colon) : namePart;
}

/** True when the registries config has a short-name alias for the name `text` starts with. */
export function hasAlias(text: string, o: RegistryOptions = {}): boolean {
  const repo = repoPart(text);
  return !repo.includes('/') && Object.hasOwn(configOf(o).aliases, repo);
}

/** The reference a user's text names, after the config's short-name aliases (`defaultTag`: false leaves a missing tag missing). */
export function qualify(text: string, o: RegistryOptions = {}, { defaultTag = true } = {}): Reference {
  const repo = repoPart(text);
  const alias = hasAlias(text, o) ? configOf(o).aliases[repo] : undefined;
  if (alias) return parseReference(alias + text.slice(repo.length), { defaultTag });
  return parseReference(text, { defaultTag });
}

/** The endpoints a pull asks, in order: mirrors, then the registry. Each with its credentials' domain. */
export function pullTransports(ref: Reference, o: RegistryOptions = {}): Transport[] {
  const cfg = configOf(o);
  const out = (cfg.mirrors[ref.domain] ?? []).map((m) => transport(m, m.replace(/^https?:\/\//, '').replace(/\/.*$/, ''), o));
  if (!isBlocked(cfg, ref.domain)) out.push(transport(apiHost(ref.domain), ref.domain, o));
  if (out.length === 0) throw new StrataError(`registry "${ref.domain}" is blocked by the registries config (${cfg.files.join(', ')}) and has no mirror`);
  return out;
}

export function pushTransport(ref: Reference, o: RegistryOptions = {}): Transport {
  const cfg = configOf(o);
  if (isBlocked(cfg, ref.domain)) throw new StrataError(`registry "${ref.domain}" is blocked by the registries config (${cfg.files.join(', ')})`);
  return transport(apiHost(ref.domain), ref.domain, o);
}

export { formatReference };
