// The build context as a tar stream, for a build that runs on another machine (`--host`): the
// context directory without what its .dockerignore excludes (the Dockerfile and .dockerignore
// always go, as Docker's client sends them), symlinks as symlinks, owners and times kept.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { parseIgnoreFile, type IgnoreMatcher } from '../builder/index.js';
import { StrataError } from '../errors.js';

/** `always`: context paths ("Dockerfile", "sub/app.Dockerfile") sent even when ignored. */
export async function contextTar(dir: string, always: string[] = []): Promise<Readable> {
  const st = await fs.promises.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new StrataError(`unable to prepare context: path "${dir}" not found`, 1);
  let ignore: IgnoreMatcher | undefined;
  const text = await fs.promises.readFile(path.join(dir, '.dockerignore'), 'utf8').catch(() => undefined);
  if (text !== undefined) {
    try {
      ignore = parseIgnoreFile(text);
    } catch (err) {
      throw new StrataError(`.dockerignore: ${(err as Error).message}`);
    }
  }
  const keep = new Set(['.dockerignore', ...always]);
  const tar = await import('tar');
  const filter = (p: string, stat: unknown): boolean => {
    const rel = p.replace(/^\.\/?/, '');
    if (!rel || !ignore || keep.has(rel)) return true;
    if (!ignore.matches(rel)) return true;
    // An ignored directory is walked only when a "!" pattern may bring something back.
    return stat instanceof fs.Stats && stat.isDirectory() && ignore.mayReinclude(rel);
  };
  return tar.c({ cwd: dir, portable: false, follow: false, noDirRecurse: false, filter }, ['.']) as unknown as Readable;
}
