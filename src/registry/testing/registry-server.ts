// Debian's docker-registry (distribution 2.8) on 127.0.0.1 for the tests: a config the test
// writes (filesystem storage in a temp dir, delete enabled), plain http, htpasswd, TLS with a
// CA made here, or token auth with the token server beside this file. Stopped by close().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeCa, makeSigningKey } from './certs.js';
import { startTokenServer, type TokenServer } from './token-server.js';

export interface RegistryOptions {
  /** Users (name → password) checked by htpasswd, or by the token server with `auth: 'token'`. */
  auth?: 'htpasswd' | 'token';
  users?: Record<string, string>;
  tls?: boolean;
}

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  url: string;
  dir: string;
  /** The CA certificate of a TLS registry. */
  caCert?: string;
  token?: TokenServer;
  close(): Promise<void>;
}

export const registryAvailable = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v docker-registry'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

async function waitUp(url: string, child: ChildProcess, log: () => string, ca?: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const mod = url.startsWith('https') ? 'node:https' : 'node:http';
      void import(mod).then((m: typeof import('node:https')) => {
        const req = m.get(`${url}/v2/`, ca ? { ca: fs.readFileSync(ca) } : {}, (res) => {
          res.resume();
          resolve(true);
        });
        req.on('error', () => resolve(false));
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`docker-registry did not start: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startRegistry(o: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-registry-'));
  const port = await freePort();
  const users = o.users ?? { alice: 'wonderland' };
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: path.join(dir, 'data') }, delete: { enabled: true } },
    http: { addr: `127.0.0.1:${port}`, secret: 'strata-test' },
  };
  let caCert: string | undefined;
  if (o.tls) {
    const ca = makeCa(dir);
    caCert = ca.caCert;
    (config.http as Record<string, unknown>).tls = { certificate: ca.serverCert, key: ca.serverKey };
  }
  let token: TokenServer | undefined;
  if (o.auth === 'htpasswd') {
    const lines = Object.entries(users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p]).toString().trim());
    fs.writeFileSync(path.join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    config.auth = { htpasswd: { realm: 'strata-test', path: path.join(dir, 'htpasswd') } };
  } else if (o.auth === 'token') {
    const key = makeSigningKey(dir);
    token = await startTokenServer({ key: key.key, cert: key.cert, issuer: 'strata-test-issuer', users });
    config.auth = { token: { realm: token.realm, service: 'strata-test-registry', issuer: 'strata-test-issuer', rootcertbundle: key.cert } };
  }
  // JSON is YAML: the registry reads it as its config.
  const configFile = path.join(dir, 'config.yml');
  fs.writeFileSync(configFile, JSON.stringify(config));
  let output = '';
  const child = spawn('docker-registry', ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const url = `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  try {
    await waitUp(url, child, () => output.slice(-2000), caCert);
  } catch (err) {
    child.kill('SIGKILL');
    await token?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: `127.0.0.1:${port}`, url, dir, caCert, token,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await token?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
