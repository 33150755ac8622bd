// A cross-process lock without fcntl: a lock file created with O_EXCL holding the owner's pid
// and start time. A lock whose owner is gone (killed with -9) is broken by the next waiter.
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import { StrataError } from '../errors.js';
import { pidAlive, processStartTime } from './owner.js';

export { processStartTime };

const myStamp = () => `${process.pid} ${processStartTime(process.pid) ?? ''}\n`;

function ownerAlive(content: string): boolean {
  const [pidText, start] = content.trim().split(' ');
  const pid = Number.parseInt(pidText, 10);
  if (!Number.isFinite(pid) || pid <= 0) return false;
  if (!pidAlive(pid)) return false;
  const now = processStartTime(pid);
  return !start || !now || now === start;
}

/** Removes the lock file `file` if its owner is gone (an empty one is left: it is being written). */
export async function breakStaleLock(file: string): Promise<void> {
  let fh;
  try {
    fh = await fs.open(file, 'r');
  } catch {
    return;
  }
  try {
    const { ino } = await fh.stat();
    const content = await fh.readFile('utf8');
    // An empty file is a lock being written right now (open then write); give it time.
    if (content === '' || ownerAlive(content)) return;
    // Unlink only the file we judged stale, not one another process created meanwhile.
    const now = await fs.lstat(file).catch(() => undefined);
    if (now && now.ino === ino) await fs.unlink(file).catch(() => undefined);
  } finally {
    await fh.close();
  }
}

export interface LockOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
}

/**
 * Creates the lock file if no one holds it: true when taken. Synchronous: an uncontended lock
 * costs three system calls and no trips through libuv's pool, which on a busy machine cost
 * some 0.5 ms each (a `run` takes the lock for its image's lease on its start path).
 */
function tryLock(file: string): boolean {
  let fd: number;
  try {
    fd = fsSync.openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fsSync.writeSync(fd, myStamp());
  } finally {
    fsSync.closeSync(fd);
  }
  return true;
}

/** Runs `fn` while holding the lock file `file`. */
export async function withLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let delay = 2;
  let emptySince: number | undefined;
  for (;;) {
    if (tryLock(file)) break;
    const content = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (content === '') {
      // A writer that died between create and write leaves an empty file: stale after a while.
      emptySince ??= Date.now();
      if (Date.now() - emptySince > 2000) await fs.unlink(file).catch(() => undefined);
    } else {
      emptySince = undefined;
      if (content !== undefined) await breakStaleLock(file);
    }
    if (Date.now() > deadline) throw new StrataError(`timed out waiting for lock "${file}"`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await fn();
  } finally {
    try {
      fsSync.unlinkSync(file);
    } catch {
      // already gone (broken as stale by another waiter)
    }
  }
}
