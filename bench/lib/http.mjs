// Small network helpers the benchmarks share.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The status code of a GET of URL (0 when it could not be made), without keep-alive. */
export function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** busybox httpd serving /index.html ("ok") on PORT, as a container's command. */
export const HTTPD = (port = 80) => ['sh', '-c', `echo ok > /tmp/index.html; exec httpd -f -p ${port} -h /tmp`];

/**
 * ms from spawning CMD ARGS until URL answers 200 (a GET every 2 ms), once CMD has exited too.
 * CMD failing before that throws. OPTS: env; stderr, a function given CMD's stderr (else it is
 * ignored); timeoutMs (30 s).
 */
export async function untilHttpOk(cmd, args, url, opts = {}) {
  const t0 = performance.now();
  const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'ignore', opts.stderr ? 'pipe' : 'ignore'] });
  child.stderr?.on('data', (d) => opts.stderr(d));
  let failed;
  let ok = false;
  const exited = new Promise((r) => child.once('exit', (code) => r((failed = code !== 0 && !ok ? code : undefined))));
  for (;;) {
    if (failed !== undefined) throw new Error(`${cmd} ${args.join(' ')}: exit ${failed}`);
    if ((await get(url)) === 200) break;
    if (performance.now() - t0 > (opts.timeoutMs ?? 30_000)) throw new Error(`${cmd}: no 200 within ${(opts.timeoutMs ?? 30_000) / 1000} s`);
    await new Promise((r) => setTimeout(r, 2));
  }
  const ms = performance.now() - t0;
  ok = true;
  await exited;
  return ms;
}
