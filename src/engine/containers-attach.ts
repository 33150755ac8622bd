// Attaching streams to a container held by its shim (`attach`, `start -a`, an attached `run`
// with ports or `-it`): the shim's attach socket, the detach keys, and the exit code once the
// container ends. The caller owns its terminal (raw mode and the like).
import { StrataError } from '../errors.js';
import { ATTACH_SOCKET, attachToShim, parseDetachKeys, shortSocketPath, waitForExit } from '../runtime/index.js';
import type { ContainerRecord } from '../store/index.js';
import { handleOf, type LightContext } from './containers-ops.js';

export interface AttachRequest {
  /** Fed to the container's stdin (none: its stdin is left alone). */
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Docker's detach keys ("ctrl-p,ctrl-q" by default); they work only with stdin. */
  detachKeys?: string;
  /** The terminal's size now (for a container with a tty). */
  size?: () => { rows: number; cols: number } | undefined;
}

export type AttachResult = { kind: 'detached' } | { kind: 'exited'; exitCode: number };

export async function attachStreams(ctx: LightContext, record: ContainerRecord, request: AttachRequest): Promise<AttachResult> {
  let keys: Buffer;
  try {
    keys = parseDetachKeys(request.detachKeys ?? 'ctrl-p,ctrl-q');
  } catch (err) {
    throw new StrataError((err as Error).message);
  }
  const handle = handleOf(ctx, record);
  const sock = shortSocketPath(handle.dir, ATTACH_SOCKET);
  try {
    const outcome = await attachToShim({
      socketPath: sock.path,
      stdin: request.stdin,
      stdout: request.stdout,
      stderr: request.stderr,
      detachKeys: request.stdin ? keys : undefined,
      size: request.size ?? (() => undefined),
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') throw new StrataError(`cannot attach to container "${handle.id.slice(0, 12)}": it is not running under a shim`);
      throw err;
    });
    if (outcome.kind === 'detached') return { kind: 'detached' };
    if (outcome.kind === 'exited') return { kind: 'exited', exitCode: outcome.exitCode };
    const status = await waitForExit(handle, 5000);
    return { kind: 'exited', exitCode: status?.exitCode ?? 0 };
  } finally {
    sock.close();
  }
}
