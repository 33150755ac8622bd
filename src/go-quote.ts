// Go's strconv.Quote, which BuildKit's AST dump (the conformance `result` format) and its error
// texts (%#v of a string) use, and strconv.QuoteRune (fmt's %q of an integer, as in BuildKit's
// history text for HEALTHCHECK). Free of imports: the parser re-exports it (parser/quote.ts).

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const HEX = '0123456789abcdef';

function hex(n: number, digits: number): string {
  let out = '';
  for (let shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += HEX[(n >> shift) & 0xf];
  return out;
}

/** strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(cp: number, ch: string): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return PRINTABLE.test(ch);
}

/** The escape of one code point CP (CH) inside a Go literal quoted with QUOTE, as strconv's appendEscapedRune. */
function escapeRune(cp: number, ch: string, quote: number): string {
  if (cp === quote || cp === 0x5c) return `\\${ch}`;
  switch (cp) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (cp >= 0xd800 && cp <= 0xdfff) return '\ufffd'; // a lone surrogate: Go would hold U+FFFD
  if (isPrint(cp, ch)) return ch;
  if (cp < 0x20 || cp === 0x7f) return `\\x${hex(cp, 2)}`;
  if (cp < 0x10000) return `\\u${hex(cp, 4)}`;
  return `\\U${hex(cp, 8)}`;
}

/** A double-quoted Go string literal for `s`, byte for byte as strconv.Quote writes it. */
export function goQuote(s: string): string {
  if (PLAIN_ASCII.test(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, ch, 0x22);
  return out + '"';
}

/** fmt's %q of an integer N: a single-quoted Go rune literal (strconv.QuoteRune): 3 is '\\x03', 65 'A'. */
export function goQuoteRune(n: number): string {
  const cp = n >= 0 && n <= 0x10ffff ? n : 0xfffd;
  return `'${escapeRune(cp, String.fromCodePoint(cp), 0x27)}'`;
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(values: readonly string[]): string {
  return `[${values.map(goQuote).join(' ')}]`;
}
