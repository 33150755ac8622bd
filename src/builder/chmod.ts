// COPY/ADD --chmod: octal ("0755") or symbolic as chmod(1) ("u=rwx,g=rx,o=", "a+X,go-w"),
// which BuildKit accepts too. A symbolic mode is applied to each copied entry's own mode (the
// umask plays no part, as in BuildKit); `X` sets execute on directories and on files that
// already have it for someone.

/** A parsed --chmod: absolute bits, or the symbolic text (kept as written, for keys and display). */
export type ChmodSpec = number | { symbolic: string };

const WHO: Record<string, number> = { u: 0o4700, g: 0o2070, o: 0o1007 };
const CLAUSE = /^([ugoa]*)((?:[-+=](?:[ugo]|[rwxXst]*))+)$/;

/** Parses the flag's value; throws `invalid chmod parameter: "x"` as BuildKit words it. */
export function parseChmod(text: string): ChmodSpec {
  if (/^[0-7]{3,4}$/.test(text)) return parseInt(text, 8);
  if (text === '' || !text.split(',').every((c) => CLAUSE.test(c))) throw new Error(`invalid chmod parameter: "${text}"`);
  return { symbolic: text };
}

/** The mode an entry gets: `mode` is its own (permission bits and type not needed beyond `dir`). */
export function applyChmod(spec: ChmodSpec, mode: number, dir: boolean): number {
  if (typeof spec === 'number') return spec;
  let m = mode & 0o7777;
  for (const clause of spec.symbolic.split(',')) {
    const [, whoText, ops] = CLAUSE.exec(clause)!;
    const who = whoText === '' || whoText.includes('a') ? 'ugo' : whoText;
    let mask = 0;
    for (const w of who) mask |= WHO[w];
    for (const [, op, perms] of ops.matchAll(/([-+=])([ugo]|[rwxXst]*)/g)) {
      let bits = 0;
      if (/^[ugo]$/.test(perms)) {
        // Copy another class's bits ("g=u"): its rwx, moved to each target class.
        const shift = { u: 6, g: 3, o: 0 }[perms as 'u' | 'g' | 'o'];
        const rwx = (m >> shift) & 7;
        bits = (rwx << 6) | (rwx << 3) | rwx;
      } else {
        for (const p of perms) {
          if (p === 'r') bits |= 0o444;
          else if (p === 'w') bits |= 0o222;
          else if (p === 'x' || (p === 'X' && (dir || (m & 0o111) !== 0))) bits |= 0o111;
          else if (p === 's') bits |= 0o6000;
          else if (p === 't') bits |= 0o1000;
        }
      }
      bits &= mask;
      if (op === '+') m |= bits;
      else if (op === '-') m &= ~bits;
      else m = (m & ~mask) | bits;
    }
  }
  return m;
}

/** The text shown (and keyed) for a parsed --chmod. */
export const chmodText = (spec: ChmodSpec): string => (typeof spec === 'number' ? spec.toString(8).padStart(4, '0') : spec.symbolic);
