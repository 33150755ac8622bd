// The body of a container's shim process (`shimMain`), run from its entries: start.cjs (the
// bundle with a V8 code cache, what startShim() spawns) or main.js (plain ES modules). Its
// stdin is a pipe from the starting CLI, which says "go" once the shim's configuration is
// written; its fd 3 a pipe back, for its one line of news.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ContainerStore, type ContainerRecord } from '../../store/index.js';
import { removeAnonymousVolumes } from '../volume-users.js';
import { removalGuard } from '../start-claim.js';
import { runShim, type ShimNews, type ShimProgress } from './shim.js';
import { applyStatus } from './record.js';
import { EARLY_PORTS_ENV, readShimConfig, type ShimStatus } from './state.js';
import { timing } from '../../timing.js';
import { bindEarlyPorts } from './early-ports.js';
import { dropLauncherFds, takeLauncherFds } from './launched-runc.js';

function writeNews(message: ShimNews | ShimProgress, last = true): void {
  try {
    fs.writeSync(3, `${JSON.stringify(message)}\n`);
    if (last) fs.closeSync(3);
  } catch {
    // The starting CLI is gone; nobody to tell.
  }
}

/** The starter's "go": the container's directory ("" for a plain "go") and whether it launched the first run. */
interface GoSignal {
  dir: string;
  launched: boolean;
}

/**
 * The "go" line once TEXT has it: "go" alone, or with the container's directory for a shim
 * spawned early; a line "launched" before it says the starter had the first start's runc
 * launched (runc-launcher.ts).
 */
function goLine(text: string): GoSignal | false {
  const m = /(?:^|\n)go(?: ([^\n]*))?\n/.exec(text);
  return m ? { dir: m[1] ?? '', launched: text.startsWith('launched\n') } : false;
}

/**
 * Resolves with the "go" line once stdin says it (goLine), false at its end without
 * it. Read blocking first: the shim has nothing else to do meanwhile, and a blocking read returns
 * the moment the line is there, without setting up process.stdin's stream and an event loop turn
 * (some 3 ms).
 */
function goSignal(): Promise<GoSignal | false> | GoSignal | false {
  const buf = Buffer.alloc(4096);
  let text = '';
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINTR') continue;
      // A non-blocking stdin (libuv makes a child's fds 0-2 blocking, another starter may not).
      if (code === 'EAGAIN') return goSignalAsync(text);
      return false;
    }
    if (n === 0) return goLine(text);
    text += buf.toString('latin1', 0, n);
    const go = goLine(text);
    if (go !== false) return go;
  }
}

/** goSignal() through process.stdin's stream, TEXT read already. */
function goSignalAsync(text: string): Promise<GoSignal | false> {
  return new Promise((resolve) => {
    const done = (go: GoSignal | false) => {
      process.stdin.destroy();
      resolve(go);
    };
    process.stdin.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const go = goLine(text);
      if (go !== false) done(go);
    });
    process.stdin.once('end', () => done(goLine(text)));
    process.stdin.once('error', () => done(false));
  });
}

/** Supervises the container in DIR until it is gone for good, then exits the process. */
export async function shimMain(dir: string | undefined): Promise<never> {
  timing('shim: loaded');
  // The shim outlives the CLI and its terminal: hang-ups and broken pipes are not its business.
  process.on('SIGHUP', () => undefined);
  process.on('SIGPIPE', () => undefined);

  // A shim spawned early binds the published ports it was handed while its starter prepares
  // (early-ports.ts); not passed on to what it starts.
  const earlySpecs = process.env[EARLY_PORTS_ENV];
  delete process.env[EARLY_PORTS_ENV];
  const earlyPorts = await bindEarlyPorts(earlySpecs);
  if (earlyPorts) timing('shim: ports bound early');

  // Our starter says "go" once our configuration is written (client.ts); without it, nothing to
  // do. A shim spawned before its container existed is given the container's directory there.
  const launcher = takeLauncherFds();
  const go = await goSignal();
  const launched = go !== false && go.launched ? launcher : undefined;
  if (!launched) dropLauncherFds(launcher);
  if (go === false) process.exit(0);
  timing('shim: go');
  // Read as bytes (latin1), so a name split between two reads stays whole.
  dir ||= Buffer.from(go.dir, 'latin1').toString('utf8');
  if (!dir) {
    writeNews({ ok: false, error: 'shim: no container directory given', exitCode: 125 });
    process.exit(125);
  }

  const config = readShimConfig(path.resolve(dir));
  const containers = config ? new ContainerStore(config.root) : undefined;
  // Record updates are applied in order, one at a time, without fsync (the record mirrors
  // shim.json, which is the truth); the last is awaited before exiting. A status that comes
  // while an update waits its turn replaces the one it would have written (a start goes through
  // four in a few ms: one or two writes of the record, not four).
  // What a status asks to do under the lock is kept when the status is replaced, done in order.
  let recordUpdates: Promise<unknown> = Promise.resolve();
  let queued: ShimStatus | undefined;
  let actions: Array<(record: ContainerRecord) => void> = [];
  const mirror = (status: ShimStatus, underLock?: (record: ContainerRecord) => void): void => {
    if (!containers || !config) return;
    if (underLock) actions.push(underLock);
    const waiting = queued !== undefined;
    queued = { ...status };
    if (waiting) return;
    recordUpdates = recordUpdates.then(() => {
      const snapshot = queued!;
      const acts = actions;
      queued = undefined;
      actions = [];
      const change = (r: ContainerRecord) => {
        applyStatus(r, snapshot);
        for (const act of acts) act(r);
      };
      return containers.update(config.id, change, { durable: false }).catch(() => undefined);
    });
  };
  // Only once the record says what happened, so the CLI's next command sees it.
  const news = (message: ShimNews): void => void recordUpdates.then(() => writeNews(message));

  await runShim(path.resolve(dir), {
    earlyPorts,
    launched,
    news,
    progress: (p) => writeNews(p, false),
    onStatus: mirror,
    removeContainer: async (config, anonymousVolumes) => {
      await recordUpdates;
      if (!containers) return;
      const guard = removalGuard({ containers, runcRoot: config.runcRoot }, config.id, config.id.slice(0, 12));
      try {
        await containers.remove(config.id, {
          guard: async () => {
            // A `start` since it exited has claimed it (it is that start's now), or a container
            // that joined its IPC runs on with its /dev/shm: kept.
            await guard();
            spawnSync('runc', ['--root', config.runcRoot, 'delete', '-f', config.id], { stdio: 'ignore' });
          },
        });
      } catch {
        return; // kept (started again, or a mount in its files): its anonymous volumes with it
      }
      await removeAnonymousVolumes(config.root, anonymousVolumes);
    },
  });
  await recordUpdates;
  process.exit(0);
}
