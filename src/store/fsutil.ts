// Crash-safe file primitives: temp file beside the target (same filesystem), fsync, rename,
// fsync of the directory. A kill at any point leaves either the old or the new file.
import { failpoint } from '../failpoint.js';
import { randomBytes } from '../random.js';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ownerStamp, parseOwner, type Owner } from './owner.js';

export { pidAlive } from './owner.js';

/** Temp names carry the writer's pid and start time so leftovers of dead processes can be recognised. */
export const TEMP_PREFIX = '.tmp-';

export function tempName(dir: string, hint = ''): string {
  return path.join(dir, `${TEMP_PREFIX}${ownerStamp()}-${randomBytes(6).toString('hex')}${hint}`);
}

/** The owner encoded in a temp name, if it is one. */
export function tempOwner(name: string): Owner | undefined {
  return name.startsWith(TEMP_PREFIX) ? parseOwner(name.slice(TEMP_PREFIX.length)) : undefined;
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface AtomicWriteOptions {
  /** Permission bits of the new file (default 0644). */
  mode?: number;
  /**
   * Also survive a power loss (default): the file is fsynced before the rename and its
   * directory after. Without it the rename is still atomic for any crash of a process.
   */
  durable?: boolean;
  /** A failpoint (src/failpoint.ts) hit between the write and the rename. */
  failpoint?: string;
  /**
   * For a file outside the state root (`save -o FILE`): the state root's tmp/, where the temp
   * file is noted while it exists, so that a later sweep removes it if the writer is killed.
   */
  noteIn?: string;
}

/** Suffix of a note naming a temp file or dir outside the state root (its content is the path). */
export const OUTSIDE_NOTE = '.outside';

/**
 * Notes, in the state root's tmp/ (`tmpDir`), a temp file (or dir) this process makes outside the
 * state root (its name from tempName()), so that a sweep removes the file if this process is
 * killed before it is renamed or removed. Returns the function that drops the note.
 */
export async function noteOutsideTemp(tmpDir: string, file: string): Promise<() => Promise<void>> {
  const note = tempName(tmpDir, OUTSIDE_NOTE);
  await fs.mkdir(tmpDir, { recursive: true });
  await fs.writeFile(note, path.resolve(file), { flag: 'wx' });
  return () => fs.rm(note, { force: true });
}

/**
 * Replaces `file` atomically with what `write` puts into the temp path it is given (a temp
 * file beside `file`, on the same filesystem, named so that leftovers of a killed writer are
 * recognised): either the old file or the whole new one is seen, never a part.
 */
export async function atomicReplace(file: string, write: (tmp: string) => Promise<void>, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  const tmp = tempName(dir);
  const forget = options.noteIn ? await noteOutsideTemp(options.noteIn, tmp) : undefined;
  try {
    await write(tmp);
    if (options.durable ?? true) {
      const fh = await fs.open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    if (options.failpoint) failpoint(options.failpoint);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  } finally {
    await forget?.();
  }
  if (options.durable ?? true) await fsyncDir(dir);
}

/** Replaces `file` atomically with `data`. */
export async function atomicWrite(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await atomicReplace(file, (tmp) => fs.writeFile(tmp, data, { flag: 'wx', mode: options.mode ?? 0o644 }), options);
}

/** atomicWrite for synchronous callers (a shim's state, on its start path). */
export function atomicWriteSync(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const dir = path.dirname(file);
  const tmp = tempName(dir);
  try {
    const fd = fsSync.openSync(tmp, 'wx', options.mode ?? 0o644);
    try {
      fsSync.writeFileSync(fd, data);
      if (options.durable ?? true) fsSync.fsyncSync(fd);
    } finally {
      fsSync.closeSync(fd);
    }
    fsSync.renameSync(tmp, file);
  } catch (err) {
    fsSync.rmSync(tmp, { force: true });
    throw err;
  }
  if (options.durable ?? true) {
    const fd = fsSync.openSync(dir, 'r');
    try {
      fsSync.fsyncSync(fd);
    } finally {
      fsSync.closeSync(fd);
    }
  }
}

/** Replaces `file` atomically with `value` as indented JSON. */
export async function atomicWriteJson(file: string, value: unknown, options?: AtomicWriteOptions): Promise<void> {
  await atomicWrite(file, `${JSON.stringify(value, null, 2)}\n`, options);
}

export async function readJsonFile<T>(file: string): Promise<T> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as T;
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
