// Parser directives (`# syntax=...`, `# escape=...`, `# check=...`): BuildKit's
// DirectiveParser. They are only recognised in the comment lines at the very top; the
// first line of any other kind (blank, instruction, ordinary comment) ends the search.

import type { Directive } from './types.js';
import { isGoSpace } from './text.js';

const VALID = new Set(['syntax', 'escape', 'check']);

/** Go's \s (RE2): [\t\n\f\r ] — note: not \v. */
function isReSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isAlnum(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39);
}

/**
 * `#` then `name = value` as BuildKit's `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` reads it,
 * written out by hand so a long line cannot make a regex backtrack.
 */
export function matchDirective(line: string): { name: string; value: string } | undefined {
  if (line.charCodeAt(0) !== 0x23 /* # */) return undefined;
  let i = 1;
  while (i < line.length && isGoSpace(line.charCodeAt(i))) i++;
  const nameStart = i;
  if (!isAlpha(line.charCodeAt(i))) return undefined;
  while (i < line.length && isAlnum(line.charCodeAt(i))) i++;
  const name = line.slice(nameStart, i);
  while (i < line.length && isReSpace(line.charCodeAt(i))) i++;
  if (line.charCodeAt(i) !== 0x3d /* = */) return undefined;
  i++;
  const afterEquals = i;
  while (i < line.length && isReSpace(line.charCodeAt(i))) i++;
  let end = line.length;
  while (end > i && isReSpace(line.charCodeAt(end - 1))) end--;
  if (end > i) return { name, value: line.slice(i, end) };
  // Only blanks after "=": the lazy group still needs one character, so it takes the last blank.
  if (line.length > afterEquals) return { name, value: line.slice(-1) };
  return undefined;
}

/** Reads directives line by line until the first line that is not one. */
export class DirectiveReader {
  private done = false;
  private readonly seen = new Set<string>();

  /**
   * The directive on this (left-trimmed, newline-stripped) line, if it is one. Throws a
   * plain Error with BuildKit's message for a repeated directive.
   */
  read(line: string): Directive | undefined {
    if (this.done) return undefined;
    const match = matchDirective(line);
    const name = match?.name.toLowerCase();
    if (!match || !name || !VALID.has(name)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(name)) throw new Error(`only one ${name} parser directive can be used`);
    this.seen.add(name);
    return { name, value: match.value };
  }

  /** Stops looking: called for lines that are not even comments. */
  finish(): void {
    this.done = true;
  }
}
