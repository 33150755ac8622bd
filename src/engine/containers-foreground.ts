// The foreground run (`run` without -d, `start -a`): this process is the container's parent,
// its output teed to the container's log; a --rm container is removed once its code is known.
import { logLimits, logPath, removeContainer, runAttached, teeToLog, type ContainerContext, type InputSource, type LogConfig } from '../runtime/index.js';
import type { ContainerRecord } from '../store/index.js';
import { timing } from '../timing.js';

export interface ForegroundIo {
  stdin: InputSource;
  /** A tty relayed by runc through our controlling terminal. */
  terminal: boolean;
  /**
   * Where the output goes besides the container's log; left out: our own stdout/stderr, which
   * runc inherits when nothing is teed (this process then never makes its stream objects).
   */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Called once runc is spawned: this process only waits from then on (work that can wait goes there). */
  onSpawn?: () => void;
}

/**
 * Runs the container attached to this process (its parent); resolves with its exit code. A
 * container that stays after it exits keeps its output for `logs`; a tty's output is relayed
 * by runc itself and a --rm container's log would go with it, so neither is teed.
 */
export async function runForeground(ctx: ContainerContext, record: ContainerRecord, io: ForegroundIo): Promise<number> {
  const limits = logLimits(record.HostConfig.LogConfig as LogConfig | undefined);
  const tee = io.terminal || record.HostConfig.AutoRemove || !limits ? undefined : teeToLog(logPath(ctx.containers.paths(record.Id).dir, record.Id), { stdout: io.stdout ?? process.stdout, stderr: io.stderr ?? process.stderr }, limits);
  try {
    // Without a log, our own stdout/stderr are inherited; another stream (`run -a`) is written to.
    const direct = (to: NodeJS.WritableStream | undefined, own: 'stdout' | 'stderr') => (to === undefined || to === process[own] ? 'inherit' as const : to);
    const output = tee ? { stdout: tee.stdout, stderr: tee.stderr } : { stdout: direct(io.stdout, 'stdout'), stderr: direct(io.stderr, 'stderr') };
    return await runAttached(ctx, record, { stdin: io.stdin, ...output, terminal: io.terminal }, { onSpawn: io.onSpawn });
  } finally {
    tee?.close();
    timing('container exited');
    // The exit code is known: the container's files are unlinked after we exit (see remove()).
    if (record.HostConfig.AutoRemove) await removeContainer(ctx, record, { volumes: true, background: true });
  }
}
