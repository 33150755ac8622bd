// A small token server for the registry's `auth.token` (distribution's token spec): GET
// /token?service=S&scope=repository:NAME:ACTIONS with Basic credentials answers an RS256 JWT
// granting the scopes asked for. Anonymous requests are granted nothing, nor is a repository
// under "forbidden/" to anyone (a user without access). Test fixture only.
// It runs as a process of its own (this file is its program): the tests run strata with
// spawnSync, which would block a server living in the test's own event loop.
import { spawn } from 'node:child_process';
import { createSign, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface TokenServer {
  realm: string;
  /** Every scope string asked for, in order (tests check what the client asked). */
  readonly scopesAsked: string[];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function signJwt(claims: object, keyPem: string, certPem: string): string {
  const der = new X509Certificate(certPem).raw.toString('base64');
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der] }));
  const body = b64url(JSON.stringify(claims));
  const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(keyPem);
  return `${head}.${body}.${b64url(sig)}`;
}

interface ServeOptions { key: string; cert: string; issuer: string; users: Record<string, string>; log: string }

function serve(o: ServeOptions): void {
  const keyPem = fs.readFileSync(o.key, 'utf8');
  const certPem = fs.readFileSync(o.cert, 'utf8');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    for (const s of scopes) fs.appendFileSync(o.log, `${s}\n`);
    const auth = req.headers.authorization ?? '';
    let user: string | undefined;
    if (auth.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (o.users[u] !== p.join(':')) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
        return;
      }
      user = u;
    }
    const access = user ? scopes.map((s) => {
      const [type, ...rest] = s.split(':');
      const actions = rest.pop() ?? '';
      return { type, name: rest.join(':'), actions: actions.split(',').filter(Boolean) };
    }).filter((a) => !a.name.startsWith('forbidden/')) : [];
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt({
      iss: o.issuer, sub: user ?? '', aud: url.searchParams.get('service') ?? '', exp: now + 300, nbf: now - 10, iat: now,
      jti: `${now}-${Math.random()}`, access,
    }, keyPem, certPem);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

export async function startTokenServer(o: Omit<ServeOptions, 'log'>): Promise<TokenServer> {
  const log = `${o.key}.scopes.log`;
  fs.writeFileSync(log, '');
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), JSON.stringify({ ...o, log })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      if (buf.includes('\n')) resolve(Number(buf.trim()));
    });
    child.once('exit', (code) => reject(new Error(`token server exited (${code})`)));
  });
  return {
    realm: `http://127.0.0.1:${port}/token`,
    get scopesAsked() {
      return fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    },
    close: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve(JSON.parse(process.argv[2]) as ServeOptions);
