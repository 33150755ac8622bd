// The patterns of `${VAR#pattern}`, `${VAR%pattern}` and `${VAR/pattern/replacement}`, matched
// as BuildKit's lexer does with Go's regexp: a pattern is a list of tokens matched by a small
// NFA (no regular expressions, so no backtracking blow-up on hostile input), on code points.

/** A malformed pattern ("invalid escape '\\b'"). */
export class PatternError extends Error {}

export type Token =
  | { kind: 'char'; ch: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'set'; negate: boolean; test: (ch: string) => boolean };

export function compilePattern(pattern: string, brackets: boolean): Token[] {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') tokens.push({ kind: 'star' });
    else if (ch === '?') tokens.push({ kind: 'any' });
    else if (ch === '\\') {
      // `\}` and `\/` were needed to write the pattern inside ${}; the backslash is not part of it.
      const after = chars[i + 1];
      if (after === '}' || after === '/') continue;
      if (after !== '*' && after !== '?' && after !== '\\') throw new PatternError(`invalid escape '\\${after ?? ''}'`);
      tokens.push({ kind: 'char', ch: after });
      i++;
    } else if (ch === '[' && brackets) {
      const set = parseBracket(chars, i);
      if (set) {
        tokens.push(set.token);
        i = set.end;
      } else tokens.push({ kind: 'char', ch });
    } else tokens.push({ kind: 'char', ch });
  }
  return tokens;
}

const CLASSES: Record<string, RegExp> = {
  alpha: /^\p{L}$/u, digit: /^[0-9]$/, alnum: /^[\p{L}0-9]$/u, upper: /^\p{Lu}$/u, lower: /^\p{Ll}$/u,
  space: /^\s$/, blank: /^[ \t]$/, punct: /^[!-/:-@[-`{-~]$/, xdigit: /^[0-9A-Fa-f]$/,
};

/** A POSIX bracket expression starting at chars[start] === '['; undefined when unterminated. */
function parseBracket(chars: string[], start: number): { token: Token; end: number } | undefined {
  let i = start + 1;
  const negate = chars[i] === '!' || chars[i] === '^';
  if (negate) i++;
  const tests: Array<(ch: string) => boolean> = [];
  for (let first = true; i < chars.length; first = false) {
    const ch = chars[i]!;
    if (ch === ']' && !first) {
      const test = (c: string) => tests.some((t) => t(c));
      return { token: { kind: 'set', negate, test }, end: i };
    }
    if (ch === '[' && chars[i + 1] === ':') {
      const close = chars.indexOf(']', i + 2);
      const cls = close > 0 && chars[close - 1] === ':' ? CLASSES[chars.slice(i + 2, close - 1).join('')] : undefined;
      if (cls) {
        tests.push((c) => cls.test(c));
        i = close + 1;
        continue;
      }
    }
    const lo = ch === '\\' && i + 1 < chars.length ? chars[++i]! : ch;
    if (chars[i + 1] === '-' && chars[i + 2] !== undefined && chars[i + 2] !== ']') {
      const hi = chars[i + 2]!;
      const [a, b] = [lo.codePointAt(0)!, hi.codePointAt(0)!];
      tests.push((c) => c.codePointAt(0)! >= a && c.codePointAt(0)! <= b);
      i += 3;
    } else {
      tests.push((c) => c === lo);
      i++;
    }
  }
  return undefined;
}

function tokenMatches(token: Token, ch: string): boolean {
  switch (token.kind) {
    case 'char': return token.ch === ch;
    case 'any': return ch !== '\n';
    case 'star': return ch !== '\n';
    case 'set': return token.test(ch) !== token.negate;
  }
}

/** Adds to STATES every state reachable by letting stars match nothing. */
function closure(tokens: Token[], states: Uint8Array): void {
  for (let j = 0; j < tokens.length; j++) if (states[j] && tokens[j]!.kind === 'star') states[j + 1] = 1;
}

/**
 * The end of the match of TOKENS anchored at V[start]: with star-and-literal patterns Go's
 * leftmost-first rule gives the longest match for greedy stars and the shortest for lazy ones.
 * Returns -1 when nothing matches.
 */
function matchAt(tokens: Token[], v: string[], start: number, greedy: boolean): number {
  const m = tokens.length;
  let states = new Uint8Array(m + 1);
  states[0] = 1;
  closure(tokens, states);
  let best = -1;
  for (let i = start; ; i++) {
    if (states[m]) {
      best = i;
      if (!greedy) return best;
    }
    if (i >= v.length) return best;
    const next = new Uint8Array(m + 1);
    let alive = false;
    for (let j = 0; j < m; j++) {
      if (!states[j] || !tokenMatches(tokens[j]!, v[i]!)) continue;
      next[tokens[j]!.kind === 'star' ? j : j + 1] = 1;
      alive = true;
    }
    if (!alive) return best;
    closure(tokens, next);
    states = next;
  }
}

export function trimPrefix(tokens: Token[], value: string, greedy: boolean): string {
  const v = Array.from(value);
  const end = matchAt(tokens, v, 0, greedy);
  return end < 0 ? value : v.slice(end).join('');
}

/** For each position, whether a match of TOKENS starts there (one backward pass). */
function matchStarts(tokens: Token[], v: string[]): Uint8Array {
  const m = tokens.length;
  const starts = new Uint8Array(v.length + 1);
  let after = new Uint8Array(m + 1); // states that can finish a match from position i+1
  for (let i = v.length; i >= 0; i--) {
    const here = new Uint8Array(m + 1);
    here[m] = 1;
    for (let j = m - 1; j >= 0; j--) {
      const token = tokens[j]!;
      const consumes = i < v.length && tokenMatches(token, v[i]!);
      here[j] = token.kind === 'star' ? (here[j + 1] || (consumes && after[j]) ? 1 : 0) : consumes && after[j + 1] ? 1 : 0;
    }
    starts[i] = here[0]!;
    after = here;
  }
  return starts;
}

/** Go's regexp ReplaceAllString / single replacement, with greedy stars, on code points. */
export function replace(tokens: Token[], value: string, replacement: string, all: boolean): string {
  const v = Array.from(value);
  const starts = matchStarts(tokens, v);
  let out = '';
  let lastEnd = 0;
  for (let searchPos = 0; searchPos <= v.length; ) {
    let start = searchPos;
    while (start <= v.length && !starts[start]) start++;
    if (start > v.length) break;
    const end = matchAt(tokens, v, start, true);
    out += v.slice(lastEnd, start).join('');
    const text = v.slice(start, end).join('');
    if (!all) return out + replacement + v.slice(end).join('');
    // Go skips an empty match right after a previous match.
    if (end > lastEnd || start === 0) out += expandTemplate(replacement, text);
    lastEnd = end;
    searchPos = Math.max(searchPos + 1, end);
  }
  return out + v.slice(lastEnd).join('');
}

/**
 * Go's Regexp.Expand on a pattern without groups, as ReplaceAllString applies it to the
 * replacement: `$$` is `$`, `$0`/`${0}` the match, any other `$name`/`${name}` nothing.
 */
function expandTemplate(template: string, match: string): string {
  return template.replace(/\$(?:\$|\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/gu, (whole, braced?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = braced ?? bare!;
    return name === '0' ? match : '';
  });
}
