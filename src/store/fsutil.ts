// Crash-safe file primitives: temp file beside the target (same filesystem), fsync, rename,
// fsync of the directory. A kill at any point leaves either the old or the new file.
import { failpoint } from '../failpoint.js';
import { randomBytes } from '../random.js';
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

/** Replaces `file` atomically with `data`; `failpointName` is hit between the write and the rename. */
export async function atomicWrite(file: string, data: string | Uint8Array, mode = 0o644, failpointName?: string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = tempName(dir);
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  if (failpointName) failpoint(failpointName);
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

export async function atomicWriteJson(file: string, value: unknown, failpointName?: string): Promise<void> {
  await atomicWrite(file, `${JSON.stringify(value, null, 2)}\n`, 0o644, failpointName);
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
