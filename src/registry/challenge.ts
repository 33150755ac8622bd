// WWW-Authenticate challenges (RFC 9110 §11.6.1) as registries send them:
//   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"
//   Basic realm="Registry Realm"
// Several challenges may share one header, separated by commas, and a header may repeat. Values
// are tokens or quoted strings (backslash escapes); parameter names are case-insensitive, and
// so is the scheme. A scope's value itself holds commas, which is why a plain split fails.

export interface Challenge {
  /** Lower-cased: "bearer", "basic", ... */
  scheme: string;
  /** Parameter names lower-cased. */
  params: Record<string, string>;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

class Scanner {
  pos = 0;
  constructor(readonly s: string) {}
  skipSpace(): void {
    while (this.pos < this.s.length && (this.s[this.pos] === ' ' || this.s[this.pos] === '\t')) this.pos++;
  }
  skipSeparators(): void {
    while (this.pos < this.s.length && /[\s,]/.test(this.s[this.pos])) this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (this.pos < this.s.length && TCHAR.test(this.s[this.pos])) this.pos++;
    return this.s.slice(start, this.pos);
  }
  peek(): string | undefined {
    return this.s[this.pos];
  }
  quoted(): string | undefined {
    if (this.s[this.pos] !== '"') return undefined;
    this.pos++;
    let out = '';
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++];
      if (c === '"') return out;
      if (c === '\\' && this.pos < this.s.length) out += this.s[this.pos++];
      else out += c;
    }
    return undefined; // unterminated: not a valid challenge
  }
}

/** Does `name=` follow at the scanner's position (a parameter, not the next challenge's scheme)? */
function paramAhead(sc: Scanner): boolean {
  const save = sc.pos;
  const name = sc.token();
  sc.skipSpace();
  const isParam = name !== '' && sc.peek() === '=' && sc.s[sc.pos + 1] !== '=';
  sc.pos = save;
  return isParam;
}

/** Parses one or more WWW-Authenticate header values; malformed parts end the parse quietly. */
export function parseChallenges(headers: string | string[] | null | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const header of ([] as string[]).concat(headers ?? [])) {
    const sc = new Scanner(header);
    for (;;) {
      sc.skipSeparators();
      const scheme = sc.token();
      if (!scheme) break;
      const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      out.push(ch);
      sc.skipSpace();
      // token68 form (e.g. "Negotiate abc=="): kept as the "token68" parameter.
      if (!paramAhead(sc) && sc.peek() !== undefined && sc.peek() !== ',') {
        const m = /^[A-Za-z0-9\-._~+/]+=*/.exec(sc.s.slice(sc.pos));
        if (m) {
          ch.params.token68 = m[0];
          sc.pos += m[0].length;
        }
      }
      for (;;) {
        sc.skipSeparators();
        if (!paramAhead(sc)) break;
        const name = sc.token().toLowerCase();
        sc.skipSpace();
        sc.pos++; // '='
        sc.skipSpace();
        const value = sc.peek() === '"' ? sc.quoted() : sc.token();
        if (value === undefined) return out;
        ch.params[name] = value;
      }
    }
  }
  return out;
}
