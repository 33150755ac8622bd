// Credentials as Docker and podman keep them: Docker's config.json ($DOCKER_CONFIG/config.json,
// else ~/.docker/config.json) with `auths`, `credHelpers` and `credsStore`
// (`docker-credential-NAME get|store|erase`, JSON over stdin/stdout); podman's auth.json
// ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json)
// is read too. `login` writes Docker's file (or its helper), as `docker login` does.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StrataError } from '../errors.js';
import { configHome } from './config.js';

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth refresh token (Docker's identitytoken; a helper's Username "<token>"). */
  identityToken?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [k: string]: unknown;
}

export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** The key Docker uses in config.json for a registry domain. */
export const authKey = (domain: string) => (domain === 'docker.io' ? DOCKER_HUB_KEY : domain);

export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

function podmanAuthFiles(env: NodeJS.ProcessEnv): string[] {
  return [
    ...(env.REGISTRY_AUTH_FILE ? [env.REGISTRY_AUTH_FILE] : []),
    ...(env.XDG_RUNTIME_DIR ? [path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json')] : []),
    path.join(configHome(env), 'containers', 'auth.json'),
  ];
}

function readConfig(file: string): DockerConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new StrataError(`reading "${file}": ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as DockerConfig;
  } catch (err) {
    throw new StrataError(`invalid JSON in "${file}": ${(err as Error).message}`);
  }
}

/** The entry of `auths` for a domain: its key, or a URL form of it ("https://host/v1/"). */
function authsEntry(cfg: DockerConfig, domain: string): Credentials | undefined {
  const key = authKey(domain);
  const hit = Object.entries(cfg.auths ?? {}).find(([k]) => k === key || k.replace(/^https?:\/\//, '').replace(/\/.*$/, '') === domain);
  if (!hit) return undefined;
  const e = hit[1];
  if (e.identitytoken) return { username: '', password: '', identityToken: e.identitytoken };
  if (e.auth) {
    const text = Buffer.from(e.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) throw new StrataError(`invalid auth for "${key}": not base64 of user:password`);
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (e.username !== undefined) return { username: e.username, password: e.password ?? '' };
  return undefined;
}

/** Runs `docker-credential-NAME ACTION` with `input` on stdin; resolves its stdout. */
function runHelper(name: string, action: 'get' | 'store' | 'erase', input: string): Promise<{ code: number; out: string }> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) return Promise.reject(new StrataError(`invalid credential helper name "${name}"`));
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${name}`, [action], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => reject(new StrataError(err.code === 'ENOENT' ? `credential helper "docker-credential-${name}" not found on the PATH` : `credential helper "docker-credential-${name}": ${err.message}`)));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

async function helperGet(name: string, domain: string): Promise<Credentials | undefined> {
  const { code, out } = await runHelper(name, 'get', authKey(domain));
  if (code !== 0) {
    if (/credentials not found/i.test(out)) return undefined;
    throw new StrataError(`credential helper "docker-credential-${name}" failed for "${domain}": ${out.trim().split('\n')[0]}`);
  }
  let r: { Username?: string; Secret?: string };
  try {
    r = JSON.parse(out) as typeof r;
  } catch {
    throw new StrataError(`credential helper "docker-credential-${name}" printed no JSON for "${domain}"`);
  }
  if (r.Username === '<token>') return { username: '', password: '', identityToken: r.Secret ?? '' };
  return { username: r.Username ?? '', password: r.Secret ?? '' };
}

/** Credentials for a registry domain, or undefined to go anonymous. */
export async function credentialsFor(domain: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const cfg = readConfig(dockerConfigFile(env));
  const helper = cfg.credHelpers?.[authKey(domain)] ?? cfg.credHelpers?.[domain];
  if (helper) return helperGet(helper, domain);
  const direct = authsEntry(cfg, domain);
  if (direct) return direct;
  if (cfg.credsStore) {
    const fromStore = await helperGet(cfg.credsStore, domain);
    if (fromStore) return fromStore;
  }
  for (const file of podmanAuthFiles(env)) {
    const found = authsEntry(readConfig(file), domain);
    if (found) return found;
  }
  return undefined;
}

function writeConfig(file: string, cfg: DockerConfig): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Saves credentials as `docker login` does: into the helper if one is configured, else base64 in `auths`. */
export async function storeCredentials(domain: string, creds: Credentials, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = dockerConfigFile(env);
  const cfg = readConfig(file);
  const helper = cfg.credHelpers?.[authKey(domain)] ?? cfg.credsStore;
  if (helper) {
    const { code, out } = await runHelper(helper, 'store', JSON.stringify({ ServerURL: authKey(domain), Username: creds.username, Secret: creds.password }));
    if (code !== 0) throw new StrataError(`credential helper "docker-credential-${helper}" could not store credentials: ${out.trim()}`);
    cfg.auths = { ...cfg.auths, [authKey(domain)]: {} };
  } else {
    cfg.auths = { ...cfg.auths, [authKey(domain)]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } };
  }
  writeConfig(file, cfg);
  return file;
}

/** Forgets a registry's credentials; false if none were stored. */
export async function eraseCredentials(domain: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const file = dockerConfigFile(env);
  const cfg = readConfig(file);
  const key = authKey(domain);
  const helper = cfg.credHelpers?.[key] ?? cfg.credsStore;
  let had = false;
  if (helper) had = (await runHelper(helper, 'erase', key)).code === 0;
  if (cfg.auths && key in cfg.auths) {
    delete cfg.auths[key];
    had = true;
    writeConfig(file, cfg);
  }
  return had;
}
