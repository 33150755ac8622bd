// Shell-word expansion as BuildKit does it (frontend/dockerfile/shell/lex.go): quote removal,
// escapes, `$VAR`/`${VAR}` and the `${VAR<op>word}` forms, and word splitting: the one lexer of
// strata. The planner expands ARG/ENV/FROM/COPY/... arguments with it; the parser splits lines
// with it to find heredocs (no variable set, references kept as written). It imports nothing
// else of strata.
//
// Behaviour follows BuildKit to the letter, quirks included (an unterminated quote is an error;
// `$` before a non-name character stays literal; in `#`/`%`/`/` patterns the escape is kept so
// that `\*` matches a star; `?` and `*` never match a newline, as Go's `.` does not).
// POSIX bracket expressions (`[a-z]`) are off by default, since BuildKit treats `[` literally.

import { compilePattern, PatternError, replace, trimPrefix, type Token } from './shell-pattern.js';

/** Variables visible to the expansion: name -> value (case-sensitive, as on Linux). */
export type Env = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export interface ExpandOptions {
  /** The Dockerfile's escape token; default `\`. */
  escapeToken?: '\\' | '`';
  /**
   * What an unset variable becomes: `empty` (BuildKit's default), `keep` (the reference is left
   * as written, BuildKit's SkipUnsetEnv) or `error` (an ExpansionError, unless a `-`, `+` or `?`
   * modifier says what to do).
   */
  unset?: 'empty' | 'keep' | 'error';
  /** Keep quote characters in the result (BuildKit's RawQuotes). */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result (BuildKit's RawEscapes). */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (BuildKit's SkipProcessQuotes). */
  skipQuotes?: boolean;
  /** Accept POSIX bracket expressions (`[abc]`, `[!a-z]`, `[[:digit:]]`) in patterns. */
  bracketExpressions?: boolean;
  /**
   * Keep `<<` and the blanks after it in one word, so that `<< EOF` is one heredoc word
   * (BuildKit's parser splits lines this way to find heredocs).
   */
  heredocs?: boolean;
}

export interface Expansion {
  /** The word with quotes removed and variables substituted (BuildKit's ProcessWord). */
  word: string;
  /** The same, split on unquoted whitespace (BuildKit's ProcessWords). */
  words: string[];
  /** Variables referenced that were set (the inputs a build step's cache key depends on). */
  matched: Set<string>;
  /** Variables referenced that were not set. */
  unmatched: Set<string>;
}

/** A malformed substitution, an unterminated quote, or a `${VAR?message}` that fired. */
export class ExpansionError extends Error {
  override readonly name = 'ExpansionError';
  constructor(
    /** The text that was being expanded. */
    readonly source: string,
    /** What went wrong, without the source: "syntax error: bad substitution". */
    readonly reason: string,
  ) {
    super(`failed to process "${source}": ${reason}`);
  }
}

/** Expands TEXT and reports everything: the word, the split words and the variables used. */
export function expand(text: string, env: Env, options: ExpandOptions = {}): Expansion {
  const lexer = new ShellWord(text, env, options);
  try {
    const { result, words } = lexer.processStopOn(EOF, options.rawEscapes ?? false);
    return { word: result, words, matched: lexer.matched, unmatched: lexer.unmatched };
  } catch (err) {
    if (err instanceof Failure) throw new ExpansionError(text, err.message);
    throw err;
  }
}

/** One word: quotes removed, variables substituted, whitespace kept (ProcessWord). */
export function expandWord(word: string, env: Env, options?: ExpandOptions): string {
  return expand(word, env, options).word;
}

/** Words split on unquoted whitespace after substitution (ProcessWords). */
export function expandWords(text: string, env: Env, options?: ExpandOptions): string[] {
  return expand(text, env, options).words;
}

const EOF = '';
/** How deeply `${...}` may nest before expansion gives up. */
const MAX_NESTING = 1000;

/** An internal error; expand() adds the source text. */
class Failure extends Error {}

/** Accumulates words the way BuildKit's wordsStruct does. */
class Words {
  private word = '';
  private inWord = false;
  readonly list: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.list.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else {
      this.addRaw(ch);
    }
  }
  addString(str: string): void {
    for (const ch of str) this.addChar(ch);
  }
  addRaw(str: string): void {
    this.word += str;
    this.inWord = true;
  }
  finish(): string[] {
    if (this.word.length > 0) this.list.push(this.word);
    this.word = '';
    this.inWord = false;
    return this.list;
  }
}

class ShellWord {
  private readonly chars: string[];
  private pos = 0;
  private rawEscapes: boolean;
  private readonly escape: string;
  private depth = 0;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(text: string, private readonly env: Env, private readonly options: ExpandOptions) {
    this.chars = Array.from(text);
    this.rawEscapes = options.rawEscapes ?? false;
    this.escape = options.escapeToken ?? '\\';
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }
  private next(): string {
    return this.chars[this.pos++] ?? EOF;
  }

  /** Reads up to STOP (consumed) or the end of the text when STOP is EOF. */
  processStopOn(stop: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.stopOn(stop);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private stopOn(stop: string): { result: string; words: string[] } {
    let result = '';
    const words = new Words();
    const quotes = !this.options.skipQuotes;
    for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
      if (stop !== EOF && ch === stop) {
        this.next();
        return { result, words: words.finish() };
      }
      if (ch === '$') {
        const value = this.processDollar();
        result += value;
        words.addString(value);
      } else if ((quotes && (ch === "'" || ch === '"')) || (ch === '<' && this.options.heredocs)) {
        const value = ch === "'" ? this.processSingleQuote() : ch === '"' ? this.processDoubleQuote() : this.processPossibleHeredoc();
        result += value;
        words.addRaw(value);
      } else {
        ch = this.next();
        if (ch === this.escape) {
          if (this.rawEscapes) {
            words.addRaw(ch);
            result += ch;
          }
          ch = this.next();
          if (ch === EOF) break;
          words.addRaw(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
    }
    if (stop !== EOF) throw new Failure(`unexpected end of statement while looking for matching ${stop}`);
    return { result, words: words.finish() };
  }

  private processSingleQuote(): string {
    const quote = this.next();
    let result = this.options.rawQuotes ? quote : '';
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new Failure('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.options.rawQuotes ? result + ch : result;
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    const quote = this.next();
    let result = this.options.rawQuotes ? quote : '';
    for (;;) {
      const peek = this.peek();
      if (peek === EOF) throw new Failure('unexpected end of statement while looking for matching double-quote');
      if (peek === '"') {
        const ch = this.next();
        return this.options.rawQuotes ? result + ch : result;
      }
      if (peek === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next();
      if (ch === this.escape) {
        if (this.rawEscapes) result += ch;
        const after = this.peek();
        if (after === EOF) continue; // a trailing escape is dropped
        // Only ", $ and the escape itself can be escaped; other escapes stay as written.
        if (after === '"' || after === '$' || after === this.escape) ch = this.next();
      }
      result += ch;
    }
  }

  /** `<<` keeps the blanks after it in its word. */
  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let result = '<<';
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') result += this.next();
    return result;
  }

  private processDollar(): string {
    // Nested ${...} recurse; a hostile word must not overflow the stack (Go's stacks just grow).
    if (++this.depth > MAX_NESTING) throw new Failure('substitutions nested too deeply');
    try {
      return this.dollar();
    } finally {
      this.depth--;
    }
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined) return this.unsetValue(name, `$${name}`);
      return value;
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new Failure("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new Failure('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    if (ch === EOF) throw new Failure("syntax error: missing '}'");
    if (ch === '}') {
      const value = this.lookup(name);
      return value === undefined ? this.unsetValue(name, `\${${name}}`) : value;
    }
    if (ch === '/') return this.processReplace(name);
    let modifier = ch;
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      modifier += ch;
    }
    if (ch === EOF) throw new Failure("syntax error: missing '}'");
    if (!'+-?#%'.includes(ch)) {
      this.processStopOnBrace(false); // BuildKit reads the word (and its errors) before refusing
      throw new Failure(`unsupported modifier (${modifier}) in substitution`);
    }
    let word = this.processStopOnBrace(ch === '#' || ch === '%');
    const value = this.lookup(name);
    if (value === undefined && this.options.unset === 'keep') return `\${${name}${modifier}${word}}`;
    const missing = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return missing ? word : value!;
      case '+':
        return missing ? '' : word;
      case '?':
        if (value === undefined) throw new Failure(`${name}: ${word || 'is not allowed to be unset'}`);
        if (missing) throw new Failure(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        // `#`/`%` remove the shortest prefix/suffix, `##`/`%%` the longest.
        const greedy = word.startsWith(ch);
        if (greedy) word = word.slice(1);
        const subject = value ?? this.unsetValue(name, '');
        const tokens = this.compile(word);
        if (ch === '#') return trimPrefix(tokens, subject, greedy);
        return reverse(trimPrefix(tokens.slice().reverse(), reverse(subject), greedy));
      }
    }
  }

  /** `${name/pattern/replacement}` and `${name//pattern/replacement}`; the first `/` is read. */
  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    let pattern: string;
    try {
      pattern = this.processStopOn('/', true).result;
    } catch (err) {
      if (err instanceof Failure && this.peek() === EOF) throw new Failure("syntax error: missing '/' in ${}");
      throw err;
    }
    const replacement = this.processStopOnBrace(true);
    const value = this.lookup(name);
    if (value === undefined && this.options.unset === 'keep') return `\${${name}/${pattern}/${replacement}}`;
    const subject = value ?? this.unsetValue(name, '');
    return replace(this.compile(pattern), subject, replacement, all);
  }

  private processStopOnBrace(rawEscapes: boolean): string {
    try {
      return this.processStopOn('}', rawEscapes).result;
    } catch (err) {
      if (err instanceof Failure && this.peek() === EOF) throw new Failure("syntax error: missing '}'");
      throw err;
    }
  }

  /** A name: digits only ($1), one special parameter ($@ $* $# $? $- $$ $!), or letters, digits, _. */
  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        while (isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private lookup(name: string): string | undefined {
    const value = this.env instanceof Map ? this.env.get(name) : lookupRecord(this.env as Record<string, string>, name);
    (value === undefined ? this.unmatched : this.matched).add(name);
    return value;
  }

  /** What an unset variable expands to; REFERENCE is the text kept in `keep` mode. */
  private unsetValue(name: string, reference: string): string {
    if (this.options.unset === 'error') throw new Failure(`variable "${name}" is not set`);
    return this.options.unset === 'keep' ? reference : '';
  }

  private compile(pattern: string): Token[] {
    try {
      return compilePattern(pattern, this.options.bracketExpressions ?? false);
    } catch (err) {
      if (err instanceof PatternError) throw new Failure(`invalid pattern (${pattern}) in substitution: ${err.message}`);
      throw err;
    }
  }
}

function lookupRecord(env: Record<string, string>, name: string): string | undefined {
  return Object.hasOwn(env, name) ? env[name] : undefined;
}

function isDigit(ch: string): boolean {
  return ch !== EOF && /^\p{Nd}$/u.test(ch);
}

function isLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch);
}

/** Go's unicode.IsSpace. */
function isSpace(ch: string): boolean {
  const c = ch.codePointAt(0) ?? -1;
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return /^\p{White_Space}$/u.test(ch);
}

function reverse(text: string): string {
  return Array.from(text).reverse().join('');
}
