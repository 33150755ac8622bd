// String orders as Docker's Go code sorts: bytewise (Go's `<` on strings, sort.Strings, text/template's
// lt) and docker/cli's natural order (sortorder.NaturalLess: `network ls`, `volume ls`). Not
// String.prototype.localeCompare: that is ICU's collation ("B" after "a", "net10" before "net2"),
// not Docker's order, and its first call loads ICU's collator, some 8-14 ms of a command's start.

/** Go's strings.Compare: the UTF-8 bytes' order (code points' order), -1, 0 or 1. */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 puts a surrogate pair (U+10000 and up) below U+E000-U+FFFF; UTF-8 does not.
    if (x >= 0xd800 && y >= 0xd800) return (a.codePointAt(i) ?? x) < (b.codePointAt(i) ?? y) ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * docker/cli's sortorder.NaturalLess: digit runs compare as numbers ("abc2" < "abc12"; with
 * more leading zeros after: "2" < "02"), a digit before any other byte, other bytes bytewise.
 */
export function naturalLess(a: string, b: string): boolean {
  const s1 = Buffer.from(a);
  const s2 = Buffer.from(b);
  let i1 = 0;
  let i2 = 0;
  while (i1 < s1.length && i2 < s2.length) {
    const c1 = s1[i1]!;
    const c2 = s2[i2]!;
    const d1 = isDigit(c1);
    const d2 = isDigit(c2);
    if (d1 !== d2) return d1;
    if (!d1) {
      if (c1 !== c2) return c1 < c2;
      i1++;
      i2++;
      continue;
    }
    while (i1 < s1.length && s1[i1] === 0x30) i1++;
    while (i2 < s2.length && s2[i2] === 0x30) i2++;
    const nonZero1 = i1;
    const nonZero2 = i2;
    while (i1 < s1.length && isDigit(s1[i1]!)) i1++;
    while (i2 < s2.length && isDigit(s2[i2]!)) i2++;
    if (i1 - nonZero1 !== i2 - nonZero2) return i1 - nonZero1 < i2 - nonZero2;
    const order = Buffer.compare(s1.subarray(nonZero1, i1), s2.subarray(nonZero2, i2));
    if (order !== 0) return order < 0;
    if (nonZero1 !== nonZero2) return nonZero1 < nonZero2;
  }
  return s1.length < s2.length;
}

/** naturalLess as a sort comparator. */
export function compareNatural(a: string, b: string): number {
  return naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0;
}
