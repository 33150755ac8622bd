// `--cache-from` / `--cache-to` values, BuildKit's syntax: `type=registry,ref=REG/REPO[:TAG][,mode=min|max]`
// and `type=local,src=DIR` (import) / `type=local,dest=DIR` (export). A bare reference is
// `type=registry,ref=` it, as `docker build --cache-from IMAGE` takes one. A digest names fixed
// content: it can be imported from, never exported to. Parsing only: the cache a spec names is
// opened by cache-store.ts (the registry client is not loaded to parse).
import path from 'node:path';
import { StrataError } from '../errors.js';

export type CacheSpec =
  | { type: 'registry'; ref: string; mode?: 'min' | 'max' }
  | { type: 'local'; dir: string; mode?: 'min' | 'max' };

/** One flag's value; `direction` says which flag (local caches take src= to import, dest= to export). */
export function parseCacheSpec(text: string, direction: 'from' | 'to'): CacheSpec {
  const flag = `--cache-${direction}`;
  const bad = (why: string) => new StrataError(`invalid ${flag} "${text}": ${why}`);
  const registry = (ref: string, mode?: 'min' | 'max'): CacheSpec => {
    if (direction === 'to' && ref.includes('@')) throw bad('a digest names fixed content, it cannot be exported to: name a tag or the repository');
    return { type: 'registry', ref, ...(mode ? { mode } : {}) };
  };
  if (!text.includes('=')) {
    if (!text) throw bad('empty');
    return registry(text);
  }
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(`expected key=value, got "${part}"`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const mode = fields.get('mode');
  if (mode !== undefined && mode !== 'min' && mode !== 'max') throw bad('mode must be min or max');
  if (mode !== undefined && direction === 'from') throw bad('mode applies to --cache-to only');
  const type = fields.get('type') ?? 'registry';
  if (type !== 'registry' && type !== 'local') throw bad(`unsupported type "${type}": expected registry or local`);
  const known = type === 'registry' ? ['type', 'ref', 'mode'] : direction === 'from' ? ['type', 'src'] : ['type', 'dest', 'mode'];
  for (const k of fields.keys()) if (!known.includes(k)) throw bad(`unknown field "${k}" for type=${type}`);
  if (type === 'registry') {
    const ref = fields.get('ref');
    if (!ref) throw bad('type=registry needs ref=REGISTRY/REPOSITORY[:TAG]');
    return registry(ref, mode);
  }
  {
    const want = direction === 'from' ? 'src' : 'dest';
    const dir = fields.get(want);
    if (!dir) throw bad(`type=local needs ${want}=DIR`);
    return { type, dir: path.resolve(dir), ...(mode ? { mode } : {}) };
  }
}
