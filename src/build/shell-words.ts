// Docker's word processing for instruction arguments (BuildKit shell/lex.go ProcessWord):
// quotes are removed, escapes resolved and $VAR / ${VAR...} substituted from the build's
// variables. RUN/CMD/ENTRYPOINT are never processed here: the container's shell does that.
// This is the build engine's own small adapter; it also reports which variables a word used,
// which the unused-build-arg warning needs.

export type Lookup = (name: string) => string | undefined;

export interface Processed {
  value: string;
  /** Names of the variables the word referred to (set or not). */
  used: string[];
}

class WordError extends Error {}

/** Processes one word; throws an Error with a one-line message on a malformed word. */
export function processWord(word: string, lookup: Lookup, escape = '\\'): Processed {
  const used: string[] = [];
  const p = new Lexer(word, lookup, escape, used);
  const value = p.word();
  return { value, used };
}

class Lexer {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly lookup: Lookup,
    private readonly escape: string,
    private readonly used: string[],
  ) {}

  word(stop?: string): string {
    let out = '';
    while (this.i < this.s.length) {
      const ch = this.s[this.i];
      if (stop && stop.includes(ch)) break;
      if (ch === this.escape) {
        this.i++;
        if (this.i < this.s.length) out += this.s[this.i++];
      } else if (ch === "'") {
        out += this.single();
      } else if (ch === '"') {
        out += this.double();
      } else if (ch === '$') {
        out += this.dollar();
      } else {
        out += ch;
        this.i++;
      }
    }
    return out;
  }

  private single(): string {
    const end = this.s.indexOf("'", this.i + 1);
    if (end < 0) throw new WordError('unexpected end of statement while looking for matching single-quote');
    const text = this.s.slice(this.i + 1, end);
    this.i = end + 1;
    return text;
  }

  private double(): string {
    this.i++;
    let out = '';
    while (this.i < this.s.length) {
      const ch = this.s[this.i];
      if (ch === '"') {
        this.i++;
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      if (ch === this.escape && this.i + 1 < this.s.length) {
        const next = this.s[this.i + 1];
        // Inside double quotes only `"`, `$` and the escape itself are escaped.
        if (next === '"' || next === '$' || next === this.escape) {
          out += next;
          this.i += 2;
          continue;
        }
      }
      out += ch;
      this.i++;
    }
    throw new WordError('unexpected end of statement while looking for matching double-quote');
  }

  private dollar(): string {
    this.i++;
    const ch = this.s[this.i];
    if (ch === '{') return this.braced();
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9*#@$?!-]/.exec(this.s.slice(this.i));
    if (!m) return '$';
    this.i += m[0].length;
    if (/^[0-9*#@$?!-]$/.test(m[0])) return '';
    this.used.push(m[0]);
    return this.lookup(m[0]) ?? '';
  }

  private braced(): string {
    this.i++;
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9*#@$?!-]/.exec(this.s.slice(this.i));
    if (!m) throw new WordError(`bad substitution: "${this.s}"`);
    const name = m[0];
    this.i += name.length;
    this.used.push(name);
    const value = this.lookup(name);
    const op = this.s[this.i];
    if (op === '}') {
      this.i++;
      return value ?? '';
    }
    let mod = op;
    this.i++;
    if (op === ':' ) {
      mod = ':' + (this.s[this.i] ?? '');
      this.i++;
    } else if ((op === '#' || op === '%' || op === '/') && this.s[this.i] === op) {
      mod = op + op;
      this.i++;
    }
    const arg = this.word('}');
    if (this.s[this.i] !== '}') throw new WordError(`missing '}' in "${this.s}"`);
    this.i++;
    return applyModifier(name, value, mod, arg);
  }
}

function applyModifier(name: string, value: string | undefined, mod: string, arg: string): string {
  switch (mod) {
    case ':-': return value ? value : arg;
    case '-': return value === undefined ? arg : value;
    case ':+': return value ? arg : '';
    case '+': return value === undefined ? '' : arg;
    case ':?':
    case '?':
      if (value === undefined || (mod === ':?' && value === '')) throw new WordError(`${name}: ${arg || 'is not allowed to be unset'}`);
      return value;
    case '#': return trimPattern(value ?? '', arg, 'prefix', false);
    case '##': return trimPattern(value ?? '', arg, 'prefix', true);
    case '%': return trimPattern(value ?? '', arg, 'suffix', false);
    case '%%': return trimPattern(value ?? '', arg, 'suffix', true);
    case '/':
    case '//': {
      const slash = arg.indexOf('/');
      const pattern = slash < 0 ? arg : arg.slice(0, slash);
      const repl = slash < 0 ? '' : arg.slice(slash + 1);
      const re = new RegExp(globToRegex(pattern), mod === '//' ? 'g' : '');
      return (value ?? '').replace(re, () => repl);
    }
    default:
      throw new WordError(`unsupported modifier (${mod}) in substitution`);
  }
}

function globToRegex(glob: string): string {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return re;
}

function trimPattern(value: string, pattern: string, side: 'prefix' | 'suffix', greedy: boolean): string {
  const re = new RegExp(`^${globToRegex(pattern)}$`, 's');
  const lengths = [...Array(value.length + 1).keys()];
  if (greedy) lengths.reverse();
  for (const n of lengths) {
    const part = side === 'prefix' ? value.slice(0, n) : value.slice(value.length - n);
    if (re.test(part)) return side === 'prefix' ? value.slice(n) : value.slice(0, value.length - n);
  }
  return value;
}
