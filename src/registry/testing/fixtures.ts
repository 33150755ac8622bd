// Helpers of the registry tests: state roots with busybox, strata's CLI with a registries
// config and credentials of the test's own, and images put into the real registry blob by blob
// (to serve what strata itself would never push: zstd, traversal, bombs, other platforms).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openStore } from '../../store/index.js';
import { ensureBusybox } from '../../testing/busybox.js';
import { runStrata, spawnStrata, tempDir, type CliResult } from '../../testing/cli.js';

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface Sandbox {
  dir: string;
  /** A state root of its own (created empty). */
  root(name: string): string;
  /** The environment strata runs with: its own HOME, config dirs and registries config. */
  env: NodeJS.ProcessEnv;
  writeRegistriesConfig(config: object): void;
  strata(args: string[], o?: { root?: string; input?: string; env?: NodeJS.ProcessEnv }): CliResult;
  /** The same without blocking this process's event loop (for servers the test itself runs). */
  strataAsync(args: string[], o?: { root?: string; env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  cleanup(): void;
}

export function sandbox(): Sandbox {
  const { dir, cleanup } = tempDir('strata-reg-');
  const home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, '.config', 'strata'), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), DOCKER_CONFIG: path.join(home, '.docker'),
    XDG_RUNTIME_DIR: path.join(dir, 'run'), REGISTRY_AUTH_FILE: '', STRATA_REGISTRIES_CONFIG: '',
  };
  return {
    dir, env,
    root: (name) => {
      const r = path.join(dir, 'roots', name);
      fs.mkdirSync(r, { recursive: true });
      return r;
    },
    writeRegistriesConfig: (config) => fs.writeFileSync(path.join(home, '.config', 'strata', 'registries.json'), JSON.stringify(config)),
    strata: (args, o = {}) => runStrata(args, { root: o.root, input: o.input, env: { ...env, ...o.env } }),
    strataAsync: (args, o = {}) => new Promise((resolve) => {
      const child = spawnStrata(args, { root: o.root, env: { ...env, ...o.env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.stdin.end();
      child.on('close', (code) => resolve({ status: code ?? 128, stdout, stderr }));
    }),
    cleanup,
  };
}

/** A state root holding busybox:latest. */
export async function busyboxRoot(sb: Sandbox, name: string): Promise<string> {
  const root = sb.root(name);
  await ensureBusybox(await openStore(root));
  return root;
}

export interface RawLayer {
  /** The blob as stored in the registry (compressed or not). */
  blob: Buffer;
  mediaType: string;
  /** sha256 of the uncompressed tar. */
  diffId: string;
}

async function putBlob(base: string, repo: string, bytes: Buffer, headers: Record<string, string>): Promise<void> {
  const digest = sha256(bytes);
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
  if (start.status !== 202) throw new Error(`upload start: ${start.status}`);
  const loc = new URL(start.headers.get('location')!, base);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: bytes, headers: { ...headers, 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob put: ${put.status} ${await put.text()}`);
}

/** Puts an image into the registry as it is given; returns the manifest's digest. */
export async function putRawImage(base: string, repo: string, tag: string, o: {
  layers: RawLayer[]; platform?: { os: string; architecture: string }; headers?: Record<string, string>; manifestMediaType?: string;
}): Promise<{ digest: string; manifest: Buffer; config: Buffer }> {
  const headers = o.headers ?? {};
  const config = Buffer.from(JSON.stringify({
    architecture: o.platform?.architecture ?? 'amd64', os: o.platform?.os ?? 'linux', config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: o.layers.map((l) => l.diffId) }, history: o.layers.map(() => ({ created_by: 'test' })),
  }));
  for (const l of o.layers) await putBlob(base, repo, l.blob, headers);
  await putBlob(base, repo, config, headers);
  const mediaType = o.manifestMediaType ?? 'application/vnd.oci.image.manifest.v1+json';
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: o.layers.map((l) => ({ mediaType: l.mediaType, digest: sha256(l.blob), size: l.blob.length })),
  }));
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { ...headers, 'content-type': mediaType } });
  if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${await res.text()}`);
  return { digest: sha256(manifest), manifest, config };
}

/** A one-line error: no stack trace, no temp path, exit 125. */
export function assertOneLineError(r: CliResult, pattern: RegExp): void {
  if (r.status !== 125) throw new Error(`expected exit 125, got ${r.status}: ${r.stderr}${r.stdout}`);
  const lines = r.stderr.trim().split('\n');
  const last = lines[lines.length - 1];
  if (!/^Error: /.test(last) || !pattern.test(last)) throw new Error(`unexpected error line: ${r.stderr}`);
  if (/\n\s+at /.test(r.stderr) || /\.tmp-\d+/.test(r.stderr)) throw new Error(`stack trace or temp path in: ${r.stderr}`);
}

/** A tar of `entries` with names as given (even "../x": what a hostile layer holds), plain ustar. */
export function tarOf(entries: { name: string; data: Buffer | string; type?: '0' | '5' }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data);
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write((e.type === '5' ? '0000755' : '0000644') + '\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('14000000000\0', 136);
    h.write('        ', 148);
    h.write(e.type ?? '0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
