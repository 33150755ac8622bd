// Cache keys as explicit data (like BuildKit's CacheMap): a step's key is the sha256 of the
// canonical JSON of its inputs (a file table by its digest). The inputs are stored with the key (the cache's KeyInputs), so
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

/**
 * The key of `inputs`: sha256 of their canonical JSON, where a file table (inputs.files) stands
 * as the digest of its own canonical JSON. A COPY's table can have 20,000 rows: copy-select.ts
 * writes its text in order as it collects it, and a warm build takes the digest from the
 * selection memo without the table. `filesDigest`, when given, is that digest of inputs.files.
 */
export function cacheKey(inputs: KeyInputs, filesDigest?: string): string {
  const files = filesDigest ?? (inputs.files ? tableDigest(canonicalJson(inputs.files)) : undefined);
  const text = canonicalJson(files === undefined ? inputs : { ...inputs, files });
  return createHash('sha256').update(text).digest('hex');
}

/** The digest a file table stands as in a key, from its canonical JSON. */
export function tableDigest(canonical: string): string {
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/** Same as JSON.stringify(s) for a string, without the call where nothing needs escaping. */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

// What JSON.stringify escapes in a string: quote, backslash, control characters, lone surrogates.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
