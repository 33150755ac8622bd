// A container's lock: a file created with O_EXCL in its dir, holding the owner's pid. A start's
// claim and a removal's last look (runtime/start-claim.ts), record updates and renames take it;
// a lock whose owner is gone (killed with -9) is broken by the next waiter. The dir's absence
// means the container is gone ("no such container").
import fs from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, StrataError } from '../errors.js';
import { pidAlive } from './owner.js';

/** How long a lock file may stay empty (created, its pid not yet written) before it is taken for a killed writer's. */
const EMPTY_STALE_MS = 2000;

/**
 * Removes a lock left by a killed process. Under a second, exclusive "breaker" dir and after a
 * second look, so two waiters cannot both break it and one remove the other's fresh lock.
 */
async function breakStaleLock(lock: string, holder: number): Promise<void> {
  const breaker = `${lock}.break`;
  try {
    await fs.mkdir(breaker);
  } catch {
    return; // someone else is breaking it
  }
  try {
    const now = Number(await fs.readFile(lock, 'utf8').catch(() => '0'));
    if (now === holder) await fs.rm(lock, { force: true });
  } finally {
    await fs.rm(breaker, { recursive: true, force: true });
  }
}

/** Runs FN holding the lock of the container ID whose dir is DIR; throws when DIR is gone. */
export async function withContainerLock<T>(dir: string, id: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, 'lock');
  let emptySince: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`no such container: "${id}"`);
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const text = await fs.readFile(lock, 'utf8').catch(() => undefined);
      const holder = Number(text ?? '0');
      // Empty: a lock being written (created, its pid not yet in), or one whose writer was killed
      // right then, which nothing else would ever remove: stale once it stayed empty a while (as lock.ts's).
      emptySince = text === '' ? emptySince ?? Date.now() : undefined;
      if ((holder > 0 && !pidAlive(holder)) || (emptySince !== undefined && Date.now() - emptySince > EMPTY_STALE_MS)) await breakStaleLock(lock, holder);
      else if (attempt > 1000) throw new StrataError(`container "${id.slice(0, 12)}" is locked by process ${holder}`);
      else await new Promise((r) => setTimeout(r, 5));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { force: true });
  }
}
