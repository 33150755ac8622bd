// The part of BuildKit's shell lexer (frontend/dockerfile/shell/lex.go) that the parser uses
// to find heredocs: word splitting with quotes, escapes and `$` references, where no variable
// is set and unset references stay as written (SkipUnsetEnv). Full expansion for the build
// lives in expand.ts; this module only has to agree with BuildKit on word boundaries.

import { isGoSpace } from './text.js';

export interface WordOptions {
  /** Keep quote characters in the words. */
  rawQuotes: boolean;
  /** Keep escape characters in the words. */
  rawEscapes: boolean;
}

/** A lexing failure (unterminated quote, bad `${...}`). */
export class ShellSyntaxError extends Error {}

const EOF = -1;
const ESCAPE = 0x5c; // the heredoc lexer always uses backslash, whatever the escape directive

/** Words of `source` the way lex.ProcessWords splits them; throws ShellSyntaxError. */
export function shellWords(source: string, options: WordOptions): string[] {
  return new ShellWords(source, options).processStopOn(EOF, options.rawEscapes).words;
}

class Words {
  words: string[] = [];
  word = '';
  inWord = false;

  addChar(ch: string, cp: number): void {
    if (isGoSpace(cp)) {
      if (this.inWord && this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch, ch.codePointAt(0)!);
  }

  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }

  finish(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWords {
  private pos = 0;
  private rawEscapes: boolean;

  constructor(
    private readonly source: string,
    private readonly options: WordOptions,
  ) {
    this.rawEscapes = options.rawEscapes;
  }

  private peek(): number {
    return this.pos < this.source.length ? this.source.codePointAt(this.pos)! : EOF;
  }

  private next(): number {
    const cp = this.peek();
    if (cp !== EOF) this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  processStopOn(stop: number, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.finish() };
        }
        if (ch === 0x24 /* $ */) {
          const tmp = this.processDollar();
          result += tmp;
          words.addString(tmp);
          continue;
        }
        if (ch === 0x3c /* < */ || ch === 0x27 /* ' */ || ch === 0x22 /* " */) {
          const tmp = ch === 0x3c ? this.processPossibleHeredoc() : ch === 0x27 ? this.processSingleQuote() : this.processDoubleQuote();
          result += tmp;
          words.addRaw(tmp);
          continue;
        }
        let cp = this.next();
        if (cp === ESCAPE) {
          if (this.rawEscapes) {
            words.addRaw('\\');
            result += '\\';
          }
          cp = this.next();
          if (cp === EOF) break;
          const s = String.fromCodePoint(cp);
          words.addRaw(s);
          result += s;
        } else {
          const s = String.fromCodePoint(cp);
          words.addChar(s, cp);
          result += s;
        }
      }
      if (stop !== EOF) {
        throw new ShellSyntaxError(`unexpected end of statement while looking for matching ${String.fromCodePoint(stop)}`);
      }
      return { result, words: words.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.options.rawQuotes) result += String.fromCodePoint(open);
    for (;;) {
      const cp = this.next();
      if (cp === EOF) throw new ShellSyntaxError('unexpected end of statement while looking for matching single-quote');
      if (cp === 0x27) {
        if (this.options.rawQuotes) result += "'";
        return result;
      }
      result += String.fromCodePoint(cp);
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    this.next();
    if (this.options.rawQuotes) result += '"';
    for (;;) {
      const peek = this.peek();
      if (peek === EOF) throw new ShellSyntaxError('unexpected end of statement while looking for matching double-quote');
      if (peek === 0x22) {
        this.next();
        if (this.options.rawQuotes) result += '"';
        return result;
      }
      if (peek === 0x24) {
        result += this.processDollar();
        continue;
      }
      let cp = this.next();
      if (cp === ESCAPE) {
        if (this.rawEscapes) result += '\\';
        const after = this.peek();
        if (after === EOF) continue;
        if (after === 0x22 || after === 0x24 || after === ESCAPE) cp = this.next();
      }
      result += String.fromCodePoint(cp);
    }
  }

  /** `<<` keeps the blanks after it in its word, so `<< EOF` stays one heredoc word. */
  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== 0x3c) return '<';
    this.next();
    let result = '<<';
    for (let cp = this.peek(); cp === 0x20 || cp === 0x09 || cp === 0x0d; cp = this.peek()) {
      result += String.fromCodePoint(cp);
      this.next();
    }
    return result;
  }

  /** `$name`, `${name}` and `${name<op>word}`: nothing is set, so each stays as written. */
  private processDollar(): string {
    this.next();
    if (this.peek() !== 0x7b /* { */) {
      const name = this.processName();
      return name === '' ? '$' : `$${name}`;
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new ShellSyntaxError("syntax error: missing '}'");
    if (first === 0x7b || first === 0x7d || first === 0x3a) throw new ShellSyntaxError('syntax error: bad substitution');
    const name = this.processName();
    const ch = this.next();
    switch (ch) {
      case 0x7d: // }
        return `\${${name}}`;
      case 0x3a: // :
      case 0x2b: // +
      case 0x2d: // -
      case 0x3f: // ?
      case 0x23: // #
      case 0x25: {
        // %
        let modifier = String.fromCodePoint(ch);
        let op: number = ch;
        if (ch === 0x3a) {
          op = this.next();
          modifier += op === EOF ? '\ufffd' : String.fromCodePoint(op);
        }
        const word = this.stopOnOrMissing(0x7d, op === 0x23 || op === 0x25, "syntax error: missing '}'");
        return `\${${name}${modifier}${word}}`;
      }
      case 0x2f: {
        // /
        if (this.peek() === 0x2f) this.next();
        const pattern = this.stopOnOrMissing(0x2f, true, "syntax error: missing '/' in ${}");
        const replacement = this.stopOnOrMissing(0x7d, true, "syntax error: missing '}'");
        return `\${${name}/${pattern}/${replacement}}`;
      }
      default:
        throw new ShellSyntaxError(`unsupported modifier (${ch === EOF ? '\ufffd' : String.fromCodePoint(ch)}) in substitution`);
    }
  }

  private stopOnOrMissing(stop: number, rawEscapes: boolean, missing: string): string {
    try {
      return this.processStopOn(stop, rawEscapes).result;
    } catch (err) {
      if (this.peek() === EOF) throw new ShellSyntaxError(missing);
      throw err;
    }
  }

  private processName(): string {
    let name = '';
    for (let cp = this.peek(); cp !== EOF; cp = this.peek()) {
      if (name === '' && isDigit(cp)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += String.fromCodePoint(this.next());
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(cp)) return String.fromCodePoint(this.next());
      if (!isLetter(cp) && !isDigit(cp) && cp !== 0x5f) break;
      name += String.fromCodePoint(this.next());
    }
    return name;
  }
}

const SPECIAL_PARAMS = new Set([0x40, 0x2a, 0x23, 0x3f, 0x2d, 0x24, 0x21, 0x30]); // @ * # ? - $ ! 0

function isDigit(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x30 && cp <= 0x39;
  return /^\p{Nd}$/u.test(String.fromCodePoint(cp));
}

function isLetter(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a);
  return /^\p{L}$/u.test(String.fromCodePoint(cp));
}
