// Entry names as extraction takes them: checked component by component (no NUL, no "..",
// no absolute name unless allowed), or cleaned as Docker's Untar in a chroot does (ADD).
import { StrataError } from '../../errors.js';

export function refuse(name: string, why: string): StrataError {
  return new StrataError(`refusing archive entry "${name}": ${why}`);
}

/**
 * An archive name cleaned as Docker's Untar does: "" and "." dropped, ".." taken back, a leading
 * "/" meaning the destination (so "/../x" is "x"); a relative name that climbs above the
 * destination is refused.
 */
export function cleanComponents(name: string): string[] {
  if (name.includes('\0')) throw refuse(name, 'NUL in name');
  const out: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p !== '..') out.push(p);
    else if (out.length) out.pop();
    else if (!name.startsWith('/')) throw refuse(name, 'it would be written outside the destination');
  }
  return out;
}

/** Splits an archive name into safe components, or throws. */
export function safeComponents(name: string, { allowAbsolute = false } = {}): string[] {
  if (name.includes('\0')) throw refuse(name, 'NUL in name');
  if (name.startsWith('/') && !allowAbsolute) throw refuse(name, 'absolute path');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw refuse(name, 'path escapes the root ("..")');
  return parts;
}
