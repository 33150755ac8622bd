// The CLI's side of a shim: starting one for a container and waiting for its news.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrataError } from '../../errors.js';
import type { ShimNews } from './shim.js';
import { timing, timingOrigin } from '../../timing.js';
import { SHIM_LOG } from './state.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * The shim makes no TLS connection, and Node 20 parses the NODE_EXTRA_CA_CERTS file at every
 * start-up (see bin/strata): the shim starts without it.
 */
function withoutExtraCaCerts(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, ...rest } = env;
  return rest;
}

export interface StartShimOptions {
  /** Called once the shim waits for an attach before starting the container. */
  attach?: () => void;
  /**
   * Work done while the shim's Node process starts: writes the shim's configuration (and may
   * prepare the first start, see detached.ts). Resolves with what to do once the shim has
   * given its news (let the namespace's holder go), if anything.
   */
  prepare: () => Promise<(() => void) | undefined>;
}

/**
 * Starts the shim for the container in DIR and resolves once the container runs; throws the
 * start failure (with the container's 125/126/127) otherwise. The shim is detached: its own
 * session, stdout on /dev/null, stderr to shim.log, stdin a pipe on which it waits for "go"
 * (its configuration written) before it reads its configuration; at an EOF without it (the
 * preparation failed, or this process died) it exits without starting anything.
 */
export async function startShim(dir: string, options: StartShimOptions): Promise<void> {
  const err = fs.openSync(path.join(dir, SHIM_LOG), 'a');
  let child;
  try {
    child = spawn(process.execPath, [...process.execArgv, path.join(here, ext === '.ts' ? 'main.ts' : 'start.cjs'), dir], {
      detached: true,
      stdio: ['pipe', 'ignore', err, 'pipe'],
      // Under tsx, `--import tsx` resolves from the package root.
      cwd: path.join(here, '..', '..'),
      env: { ...withoutExtraCaCerts(process.env), ...timingOrigin() },
    });
  } finally {
    fs.closeSync(err);
  }
  timing('shim spawned');
  const go = child.stdin!;
  go.on('error', () => undefined);
  let letGo: (() => void) | undefined;
  try {
    letGo = await options.prepare();
  } catch (e) {
    go.end();
    child.unref();
    (child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
    throw e;
  }
  go.end('go\n');
  try {
    await newsOf(child, dir, options.attach);
  } finally {
    letGo?.();
  }
}

async function newsOf(child: ChildProcess, dir: string, attach: (() => void) | undefined): Promise<void> {
  const pipe = child.stdio[3] as NodeJS.ReadableStream;
  // Lines: an optional {"listening":true} (attach now), then the news.
  const text = await new Promise<string>((resolve) => {
    let buf = '';
    pipe.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0 && buf.startsWith('{"listening":true}')) {
        buf = buf.slice(nl + 1);
        attach?.();
      }
    });
    pipe.on('end', () => resolve(buf));
    pipe.on('error', () => resolve(buf));
  });
  child.unref();
  timing('shim news');
  let news: ShimNews;
  try {
    news = JSON.parse(text.trim()) as ShimNews;
  } catch {
    const log = fs.readFileSync(path.join(dir, SHIM_LOG), 'utf8').trim().split('\n').pop() ?? '';
    throw new StrataError(`starting the container's shim: ${log || 'it exited without a word'}`);
  }
  if (!news.ok) throw new StrataError(news.error, news.exitCode);
}
