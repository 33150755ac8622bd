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
  if (value instanceof CanonicalText) return value.text;
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

/**
 * A value whose canonical JSON is already written: a COPY's file table, made in sorted order as
 * it is collected (copy-select.ts), so that 20,000 entries are not put in an object, sorted and
 * serialised again to compute a key.
 */
export class CanonicalText {
  constructor(readonly text: string) {}
}

/** The key of `inputs`; `files`, when given, stands for inputs.files (the same table, as canonical text). */
export function cacheKey(inputs: KeyInputs, files?: CanonicalText): string {
  const text = canonicalJson(files ? { ...inputs, files } : inputs);
  return createHash('sha256').update(text).digest('hex');
}

/** Same as JSON.stringify(s) for a string, without the call where nothing needs escaping. */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

// What JSON.stringify escapes in a string: quote, backslash, control characters, lone surrogates.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
