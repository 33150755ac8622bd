// Cache keys as explicit data (like BuildKit's CacheMap): a step's key is the sha256 of the
// canonical JSON of its inputs. The inputs are stored with the key (the cache's KeyInputs), so
// a later miss can be explained by comparing them with the entry the previous build used.
import { createHash } from 'node:crypto';
import type { KeyInputs } from '../store/index.js';

export type { KeyInputs } from '../store/index.js';

/**
 * JSON with object keys sorted at every level: the same data always gives the same text. Built
 * in one string, strings written directly: a COPY of a large context has one key per file.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  let out = '{';
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${typeof v === 'string' ? JSON.stringify(v) : canonicalJson(v)}`;
  }
  return `${out}}`;
}

export function cacheKey(inputs: KeyInputs): string {
  return createHash('sha256').update(canonicalJson(inputs)).digest('hex');
}
