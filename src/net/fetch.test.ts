// bin/strata starts Node without NODE_EXTRA_CA_CERTS: an `ADD https://...` from a server whose
// certificate only that file vouches for must still be fetched, and fail without it.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { repoRoot, tempDir } from '../testing/cli.js';

const launcher = path.join(repoRoot, 'bin', 'strata');
const built = fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'start.cjs'));

/** Runs bin/strata without blocking this process (the https server lives here). */
function strata(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(launcher, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ status: code ?? 1, stdout, stderr }));
  });
}

describe('https requests with a deferred NODE_EXTRA_CA_CERTS (bin/strata)', { skip: !built && 'needs `npm run build`' }, () => {
  let t: ReturnType<typeof tempDir>;
  let server: https.Server;
  let base: string;
  let ca: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    t = tempDir('strata-fetch-');
    ca = path.join(t.dir, 'ca.pem');
    const key = path.join(t.dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', ca, '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(ca) }, (req, res) => {
      res.end(req.url === '/greeting.txt' ? 'hello over tls\n' : 'other\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const root = path.join(t.dir, 'root');
    await ensureBusybox(await openStore(root));
    const { NODE_EXTRA_CA_CERTS: _unused, ...rest } = process.env;
    env = { ...rest, STRATA_ROOT: root };
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    t.cleanup();
  });

  function context(name: string): string {
    const dir = path.join(t.dir, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), `FROM busybox\nADD ${base}/greeting.txt /greeting.txt\nCMD ["cat", "/greeting.txt"]\n`);
    return dir;
  }

  it('trusts the CA file NODE_EXTRA_CA_CERTS names, though Node starts without it', async () => {
    const built = await strata(['build', '-q', '-t', 'tls-ok', context('trusted')], { ...env, NODE_EXTRA_CA_CERTS: ca });
    assert.equal(built.status, 0, built.stderr);
    const ran = await strata(['run', '--rm', 'tls-ok'], env);
    assert.equal(ran.stdout, 'hello over tls\n');
  });

  it('refuses the server without it', async () => {
    const refused = await strata(['build', '-q', '--no-cache', context('untrusted')], env);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /greeting\.txt/);
  });

  it('puts the variable back in strata\'s environment (here: `run -e NAME` passes the host value on)', async () => {
    const ran = await strata(['run', '--rm', '-e', 'NODE_EXTRA_CA_CERTS', 'busybox', 'sh', '-c', 'echo "$NODE_EXTRA_CA_CERTS"'], { ...env, NODE_EXTRA_CA_CERTS: ca });
    assert.equal(ran.status, 0, ran.stderr);
    assert.equal(ran.stdout, `${ca}\n`);
  });
});
