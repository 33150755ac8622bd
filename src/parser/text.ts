// Character helpers with Go's semantics. BuildKit's parser is written in Go, and which
// characters count as "space" decides how lines and words split, so we mirror Go exactly
// rather than use JavaScript's \s (which differs: \uFEFF yes, \u0085 no).

/** Go's unicode.IsSpace. */
export function isGoSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return (
    c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

/**
 * unicode.IsSpace(rune(b)) over single bytes, as BuildKit's flag and HEALTHCHECK splitters do.
 * We work on characters, not UTF-8 bytes, so only ASCII can match here; BuildKit would also
 * split inside a multi-byte character whose encoding holds 0x85 or 0xA0, which we do not copy.
 */
export function isByteSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Index of the first character that is not a Go space, from `from`. */
export function skipGoSpace(s: string, from = 0): number {
  let i = from;
  while (i < s.length && isGoSpace(s.charCodeAt(i))) i++;
  return i;
}

/** strings.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftGoSpace(s: string): string {
  const i = skipGoSpace(s);
  return i === 0 ? s : s.slice(i);
}

/** strings.TrimSpace, returning the trimmed text and where it starts in `s`. */
export function trimGoSpace(s: string): { text: string; start: number } {
  const start = skipGoSpace(s);
  let end = s.length;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return { text: start === 0 && end === s.length ? s : s.slice(start, end), start };
}

/** bytes.TrimRight(line, "\r\n"): a physical line without its line ending. */
export function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 0x0a && c !== 0x0d) break;
    end--;
  }
  return end === s.length ? s : s.slice(0, end);
}

/** The characters of BuildKit's reWhitespace, `[\t\v\f\r ]`. */
export function isReWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
}

/** reWhitespace.Split(s, -1) for a string without leading or trailing separators. */
export const RE_WHITESPACE = /[\t\v\f\r ]+/;

/** UTF-8 length of a string, without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
