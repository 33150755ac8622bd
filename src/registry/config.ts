// The registries config (README.md beside this file documents it): mirrors, insecure
// registries, blocked registries, per-registry CA directories and short-name aliases. Read from
// /etc/strata/registries.json, then the user's $XDG_CONFIG_HOME/strata/registries.json (default
// ~/.config), then the file STRATA_REGISTRIES_CONFIG names; a later file's keys add to (lists,
// maps) the earlier ones'.
import fs from 'node:fs';
import path from 'node:path';
import { configHome, registriesConfigFiles } from '../config-paths.js';
import { StrataError } from '../errors.js';

export interface RegistriesConfig {
  /** Registry domain → mirrors tried first for pulls ("host:port", or "http://host:port"). */
  mirrors: Record<string, string[]>;
  /** Registries reached over plain http, or https without verification. */
  insecure: string[];
  /** Registries never contacted ("*": every one but loopback addresses); their mirrors still are. */
  blocked: string[];
  /** Directories holding HOST[:PORT]/ca.crt (and *.crt, client *.cert + *.key). */
  certsDirs: string[];
  /** Short name → full repository ("node" → "docker.io/library/node"). */
  aliases: Record<string, string>;
  /** The files read, for messages. */
  files: string[];
}

export { configHome };

function defaultCertsDirs(env: NodeJS.ProcessEnv): string[] {
  return [path.join(configHome(env), 'containers', 'certs.d'), '/etc/containers/certs.d', '/etc/docker/certs.d'];
}

const strings = (v: unknown, file: string, key: string): string[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new StrataError(`invalid registries config "${file}": "${key}" must be a list of strings`);
  return v as string[];
};

function merge(into: RegistriesConfig, raw: unknown, file: string): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new StrataError(`invalid registries config "${file}": expected a JSON object`);
  const o = raw as Record<string, unknown>;
  const known = new Set(['mirrors', 'insecure', 'blocked', 'certsDirs', 'aliases', 'comment']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new StrataError(`invalid registries config "${file}": unknown key "${k}"`);
  if (o.mirrors !== undefined) {
    if (typeof o.mirrors !== 'object' || o.mirrors === null) throw new StrataError(`invalid registries config "${file}": "mirrors" must map a registry to a list`);
    for (const [reg, list] of Object.entries(o.mirrors)) into.mirrors[reg] = [...(into.mirrors[reg] ?? []), ...strings(list, file, `mirrors.${reg}`)];
  }
  into.insecure.push(...strings(o.insecure, file, 'insecure'));
  into.blocked.push(...strings(o.blocked, file, 'blocked'));
  into.certsDirs.unshift(...strings(o.certsDirs, file, 'certsDirs').map((d) => path.resolve(path.dirname(file), d)));
  if (o.aliases !== undefined) {
    if (typeof o.aliases !== 'object' || o.aliases === null) throw new StrataError(`invalid registries config "${file}": "aliases" must map names to repositories`);
    for (const [k, v] of Object.entries(o.aliases)) {
      if (typeof v !== 'string') throw new StrataError(`invalid registries config "${file}": alias "${k}" must be a string`);
      into.aliases[k] = v;
    }
  }
  into.files.push(file);
}

export const configFiles = registriesConfigFiles;

export function loadRegistriesConfig(env: NodeJS.ProcessEnv = process.env): RegistriesConfig {
  const cfg: RegistriesConfig = { mirrors: {}, insecure: [], blocked: [], certsDirs: defaultCertsDirs(env), aliases: {}, files: [] };
  for (const file of configFiles(env)) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new StrataError(`reading registries config "${file}": ${(err as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new StrataError(`invalid registries config "${file}": ${(err as Error).message}`);
    }
    merge(cfg, raw, file);
  }
  return cfg;
}

/** "127.0.0.1:5000", "[::1]:5000", "localhost" ...: loopback hosts need neither TLS nor an insecure entry. */
export function isLoopback(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export function isInsecure(cfg: RegistriesConfig, host: string): boolean {
  return cfg.insecure.includes(host) || cfg.insecure.includes(host.replace(/:\d+$/, ''));
}

export function isBlocked(cfg: RegistriesConfig, domain: string): boolean {
  if (isLoopback(domain)) return false;
  return cfg.blocked.includes('*') || cfg.blocked.includes(domain);
}
