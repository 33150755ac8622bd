// The CLI's side of a shim: starting one for a container and waiting for its news.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrataError } from '../../errors.js';
import { failpoint } from '../../failpoint.js';
import type { ShimNews } from './shim.js';
import { timing, timingOrigin } from '../../timing.js';
import { SHIM_LOG } from './state.js';
import { releaseEarlyShim, takeEarlyShim, type EarlyShim } from './early.js';

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
 * session, stdout on /dev/null, stderr to shim.log, stdin a pipe on which it waits for "go DIR"
 * (its configuration written) before it reads its configuration; at an EOF without it (the
 * preparation failed, or this process died) it exits without starting anything. The shim may
 * already be waiting, spawned by the command's entry (early.ts): its log moves into DIR then.
 */
export async function startShim(dir: string, options: StartShimOptions): Promise<void> {
  const child = adoptEarlyShim(dir) ?? spawnShim(dir);
  timing('shim spawned');
  const go = child.process.stdin!;
  go.on('error', () => undefined);
  let letGo: (() => void) | undefined;
  try {
    letGo = await options.prepare();
  } catch (e) {
    go.end();
    child.process.unref();
    (child.process.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
    throw e;
  }
  failpoint('shim.before-go');
  go.end(`go ${dir}\n`);
  try {
    await newsOf(child, dir, options.attach);
  } finally {
    letGo?.();
  }
}

/** A shim process and its news pipe, read from its spawn on. */
interface Spawned {
  process: ChildProcess;
  news: EarlyShim['news'];
}

function spawnShim(dir: string): Spawned {
  const err = fs.openSync(path.join(dir, SHIM_LOG), 'a');
  try {
    const child = spawn(process.execPath, [...process.execArgv, path.join(here, ext === '.ts' ? 'main.ts' : 'start.cjs'), dir], {
      detached: true,
      stdio: ['pipe', 'ignore', err, 'pipe'],
      // Under tsx, `--import tsx` resolves from the package root.
      cwd: path.join(here, '..', '..'),
      env: { ...withoutExtraCaCerts(process.env), ...timingOrigin() },
    });
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    return {
      process: child,
      news: (listen, end) => {
        pipe.on('data', (d: Buffer) => listen(d.toString()));
        pipe.on('end', end);
        pipe.on('error', end);
      },
    };
  } finally {
    fs.closeSync(err);
  }
}

/** The early shim for DIR, its log moved there and its pipes holding this process again. */
function adoptEarlyShim(dir: string): Spawned | undefined {
  const early = takeEarlyShim();
  if (!early) return undefined;
  try {
    fs.renameSync(early.log, path.join(dir, SHIM_LOG));
  } catch {
    releaseEarlyShim(early);
    return undefined;
  }
  early.child.ref();
  (early.child.stdin as unknown as { ref(): void }).ref();
  (early.child.stdio[3] as unknown as { ref(): void }).ref();
  return { process: early.child, news: early.news };
}

async function newsOf(child: Spawned, dir: string, attach: (() => void) | undefined): Promise<void> {
  // Lines: an optional {"listening":true} (attach now), then the news.
  const text = await new Promise<string>((resolve) => {
    let buf = '';
    child.news(
      (d) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl >= 0 && buf.startsWith('{"listening":true}')) {
          buf = buf.slice(nl + 1);
          attach?.();
        }
      },
      () => resolve(buf),
    );
  });
  child.process.unref();
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
