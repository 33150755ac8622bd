// Shell-word expansion, table-driven: the cases are ported from BuildKit's
// frontend/dockerfile/shell tests (envVarTest, wordsTest, TestProcessWithMatches), plus the
// strata-only options and a differential check of the pattern matcher against regular expressions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expand, expandWord, expandWords, ExpansionError, type Env, type ExpandOptions } from './expand.js';
import { prng } from '../testing/prng.js';

const ERROR = Symbol('error');
type Expected = string | typeof ERROR;

// BuildKit envVarTest: env PWD=/home SHELL=bash KOREAN=한국어 NULL=
const envVarEnv = { PWD: '/home', SHELL: 'bash', KOREAN: '한국어', NULL: '' };
const envVarCases: Array<[string, Expected]> = [
  ['hello', 'hello'],
  ["he'll'o", 'hello'],
  ["he'llo", ERROR],
  ["he\\'llo", "he'llo"],
  ["he\\\\'llo", ERROR],
  ['abc\\tdef', 'abctdef'],
  ['"abc\\tdef"', 'abc\\tdef'],
  ['"abc\\\\tdef"', 'abc\\tdef'],
  ["'abc\\tdef'", 'abc\\tdef'],
  ['hello\\', 'hello'],
  ['hello\\\\', 'hello\\'],
  ['"hello', ERROR],
  ['"hello\\"', ERROR],
  ['"hel\'lo"', "hel'lo"],
  ["'hello", ERROR],
  ["'hello\\'", 'hello\\'],
  ["'hello\\there'", 'hello\\there'],
  ["'hello\\\\there'", 'hello\\\\there'],
  ['"\'\'"', "''"],
  ['$.', '$.'],
  ['he$1x', 'hex'],
  ['he$.x', 'he$.x'],
  ['he$pwd.', 'he.'],
  ['he$PWD', 'he/home'],
  ['he\\$PWD', 'he$PWD'],
  ['he\\\\$PWD', 'he\\/home'],
  ['"he\\$PWD"', 'he$PWD'],
  ['"he\\\\$PWD"', 'he\\/home'],
  ['\\${}', '${}'],
  ['\\${}aaa', '${}aaa'],
  ['he\\${}', 'he${}'],
  ['he\\${}xx', 'he${}xx'],
  ['${}', ERROR],
  ['${}aaa', ERROR],
  ['he${}', ERROR],
  ['he${}xx', ERROR],
  ['he${hi}', 'he'],
  ['he${hi}xx', 'hexx'],
  ['he${PWD}', 'he/home'],
  ['he${.}', ERROR],
  ['he${XXX:-000}xx', 'he000xx'],
  ['he${PWD:-000}xx', 'he/homexx'],
  ['he${XXX:-$PWD}xx', 'he/homexx'],
  ['he${XXX:-${PWD:-yyy}}xx', 'he/homexx'],
  ['he${XXX:-${YYY:-yyy}}xx', 'heyyyxx'],
  ['he${XXX:YYY}', ERROR],
  ['he${XXX?}', ERROR],
  ['he${XXX:?}', ERROR],
  ['he${PWD?}', 'he/home'],
  ['he${PWD:?}', 'he/home'],
  ['he${NULL?}', 'he'],
  ['he${NULL:?}', ERROR],
  ['he${XXX:+${PWD}}xx', 'hexx'],
  ['he${PWD:+${XXX}}xx', 'hexx'],
  ['he${PWD:+${SHELL}}xx', 'hebashxx'],
  ['he${XXX:+000}xx', 'hexx'],
  ['he${PWD:+000}xx', 'he000xx'],
  ["'he${XX}'", 'he${XX}'],
  ['"he${PWD}"', 'he/home'],
  ['"he\'$PWD\'"', "he'/home'"],
  ['"$PWD"', '/home'],
  ["'$PWD'", '$PWD'],
  ["'\\$PWD'", '\\$PWD'],
  ['\'"hello"\'', '"hello"'],
  ["'he\\$PWD'", 'he\\$PWD'],
  ['he${PWD', ERROR],
  ['he${PWD:=000}xx', ERROR],
  ['he${PWD:+${PWD}:}xx', 'he/home:xx'],
  ['he${XXX:-\\$PWD:}xx', 'he$PWD:xx'],
  ['he${XXX:-\\${PWD}z}xx', 'he${PWDz}xx'],
  ['안녕하세요', '안녕하세요'],
  ["안'녕'하세요", '안녕하세요'],
  ["안'녕하세요", ERROR],
  ["안녕\\'하세요", "안녕'하세요"],
  ['안녕\\t하세요', '안녕t하세요'],
  ['"안녕\\t하세요"', '안녕\\t하세요'],
  ['안녕$1x', '안녕x'],
  ['안녕${XXX:-${YYY:-yyy}}xx', '안녕yyyxx'],
  ['$KOREAN', '한국어'],
  ['안녕$KOREAN', '안녕한국어'],
  ['${{aaa}', ERROR],
  ['${aaa}}', '}'],
  ['${aaa}}}', '}}'],
  ['${aaa}{', '{'],
  ['${aaa}{{', '{{'],
  ['${aaa}{{}', '{{}'],
  ['${1}', ''],
  ['${$}', ''],
  ['$@', ''],
  ['${PWD#/}', 'home'],
  ['${PWD%e}', '/hom'],
  ['${SHELL#b*}', 'ash'],
  ['${SHELL##b*}', ''],
  ['${SHELL%a*}', 'b'],
  ['${KOREAN#한}', '국어'],
  ['${KOREAN%?}', '한국'],
  ['${PWD/home/x}', '/x'],
  ['${PWD', ERROR],
  ['${PWD:', ERROR],
  ['${PWD/home', ERROR],
  ['${PWD/home/', ERROR],
  ['${PWD#\\x}', ERROR],
  ['${PWD:-"a}b"}', '/home'],
  ['${XXX:-"a}b"}', 'a}b'],
  ["${XXX:-'a b'}", 'a b'],
];

describe('expandWord (BuildKit envVarTest)', () => {
  for (const [input, expected] of envVarCases) {
    it(JSON.stringify(input), () => {
      if (expected === ERROR) {
        assert.throws(() => expandWord(input, envVarEnv), ExpansionError);
      } else {
        assert.equal(expandWord(input, envVarEnv), expected);
        assert.equal(expandWord(input, new Map(Object.entries(envVarEnv))), expected, 'same result with a Map');
      }
    });
  }
});

// BuildKit wordsTest: ENV lines accumulate, each case lists the expected words.
const wordsEnv = { hi: 'hi', space: 'abc  def', leading: '  ab c', trailing: 'ab c   ' };
const wordsCases: Array<[string, string[] | typeof ERROR, Env?]> = [
  ['hello', ['hello']],
  ['hello${hi}bye', ['hellobye'], {}],
  ['hello${hi}bye', ['hellohibye']],
  ['hello${space}bye', ['helloabc', 'defbye']],
  ['hello"${space}"bye', ['helloabc  defbye']],
  ['hello "${space}"bye', ['hello', 'abc  defbye']],
  ['hello${leading}def', ['hello', 'ab', 'cdef']],
  ['hello"${leading}" def', ['hello  ab c', 'def']],
  ['hello"${leading}"', ['hello  ab c']],
  ['hello${leading}', ['hello', 'ab', 'c']],
  ['hello${trailing}', ['helloab', 'c']],
  ['hello${trailing}d', ['helloab', 'c', 'd']],
  ['hello"${trailing}"d', ['helloab c   d']],
  ['hel"lo${trailing}"', ['helloab c   ']],
  ['hello" there  "', ['hello there  ']],
  ['hello there     ', ['hello', 'there']],
  ['hello\\ there', ['hello there']],
  ['hello" there', ERROR],
  ['hello\\" there', ['hello"', 'there']],
  ['hello"\\\\there"', ['hello\\there']],
  ['hello"\\there"', ['hello\\there']],
  ["hello'\\\\there'", ['hello\\\\there']],
  ["hello'\\there'", ['hello\\there']],
  ["hello'$there'", ['hello$there']],
  ['a "" b', ['a', 'b']],
  ['  \t a\nb  ', ['a', 'b']],
];

describe('expandWords (BuildKit wordsTest)', () => {
  for (const [input, expected, env] of wordsCases) {
    it(JSON.stringify(input), () => {
      if (expected === ERROR) assert.throws(() => expandWords(input, env ?? wordsEnv), ExpansionError);
      else assert.deepEqual(expandWords(input, env ?? wordsEnv), expected);
    });
  }
});

// BuildKit TestProcessWithMatches: result plus the variables that were and were not found.
const matchCases: Array<{ input: string; env: Record<string, string>; expected: Expected; matched?: string[]; unmatched?: string[] }> = [
  { input: 'x', env: { DUMMY: 'dummy' }, expected: 'x' },
  { input: 'x ${UNUSED}', env: { DUMMY: 'dummy' }, expected: 'x ', unmatched: ['UNUSED'] },
  { input: 'x ${FOO}', env: { FOO: 'y' }, expected: 'x y', matched: ['FOO'] },
  { input: '${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', env: { FOO: 'xxx', BAR: '' }, expected: 'xxx  ccc', matched: ['FOO', 'BAR'], unmatched: ['BAZ'] },
  { input: '${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', env: { FOO: 'xxx', BAR: '' }, expected: 'xxx bbb ccc', matched: ['FOO', 'BAR'], unmatched: ['BAZ'] },
  { input: '${FOO:-}', env: { FOO: 'xxx', BAR: '' }, expected: 'xxx', matched: ['FOO'] },
  { input: '${FOO:-}', env: {}, expected: '', unmatched: ['FOO'] },
  { input: '${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', env: { FOO: 'xxx', BAR: '' }, expected: 'aaa bbb ', matched: ['FOO', 'BAR'], unmatched: ['BAZ'] },
  { input: '${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', env: { FOO: 'xxx', BAR: '' }, expected: 'aaa  ', matched: ['FOO', 'BAR'], unmatched: ['BAZ'] },
  { input: '${FOO?aaa}', env: { FOO: 'xxx', BAR: '' }, expected: 'xxx', matched: ['FOO'] },
  { input: '${BAR?bbb}', env: { FOO: 'xxx', BAR: '' }, expected: '', matched: ['BAR'] },
  { input: '${BAZ?ccc}', env: { FOO: 'xxx', BAR: '' }, expected: ERROR },
  { input: '${FOO:?aaa}', env: { FOO: 'xxx', BAR: '' }, expected: 'xxx', matched: ['FOO'] },
  { input: '${BAR:?bbb}', env: { FOO: 'xxx', BAR: '' }, expected: ERROR },
  { input: '${BAZ:?ccc}', env: { FOO: 'xxx', BAR: '' }, expected: ERROR },
  { input: '${BAZ:?}', env: { FOO: 'xxx', BAR: '' }, expected: ERROR },
  { input: '${FOO=aaa}', env: { FOO: 'xxx', BAR: '' }, expected: ERROR },
  { input: '${FOO=:aaa}', env: { FOO: 'xxx', BAR: '' }, expected: ERROR },
  { input: '${FOO=}', env: {}, expected: ERROR },
  { input: '${FOO#()[]{\\}^$.\\*\\?|\\\\}', env: { FOO: '()[]{}^$.*?|\\x' }, expected: 'x', matched: ['FOO'] },
  { input: '${FOO%%\\**}', env: { FOO: 'xx**' }, expected: 'xx', matched: ['FOO'] },
  { input: '${FOO#*x*y}', env: { FOO: 'xxyy' }, expected: 'y', matched: ['FOO'] },
  { input: '${FOO#*}', env: { FOO: 'xxyy' }, expected: 'xxyy', matched: ['FOO'] },
  { input: '${FOO#$BAR}', env: { FOO: 'xxyy', BAR: 'x' }, expected: 'xyy', matched: ['FOO', 'BAR'] },
  { input: '${FOO#$BAR}', env: { FOO: 'xxyy', BAR: '' }, expected: 'xxyy', matched: ['FOO', 'BAR'] },
  { input: '${FOO#}', env: { FOO: 'xxyy' }, expected: 'xxyy', matched: ['FOO'] },
  { input: '${FOO##*x}', env: { FOO: 'xxyy' }, expected: 'yy', matched: ['FOO'] },
  { input: '${FOO##}', env: { FOO: 'xxyy' }, expected: 'xxyy', matched: ['FOO'] },
  { input: '${FOO#?\\?}', env: { FOO: '???y' }, expected: '?y', matched: ['FOO'] },
  { input: '${ABC:-.}${FOO%x}${ABC:-.}', env: { FOO: 'xxyy' }, expected: '.xxyy.', matched: ['FOO'], unmatched: ['ABC'] },
  { input: '${FOO%%\\**\\*}', env: { FOO: 'a***yy*' }, expected: 'a', matched: ['FOO'] },
  { input: '${FOO%}', env: { FOO: 'xxyy' }, expected: 'xxyy', matched: ['FOO'] },
  { input: '${FOO%%$BAR}', env: { FOO: 'xxyy', BAR: '' }, expected: 'xxyy', matched: ['FOO', 'BAR'] },
  { input: '${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}', env: { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' }, expected: '/foo.*/*.txt - /foo..*.txt', matched: ['FOO', 'NEEDLE'] },
  { input: '${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}', env: { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' }, expected: '/tmp/bar.txt - /bar.txt', matched: ['FOO', 'NEEDLE'] },
  { input: '${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}', env: { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' }, expected: '/foo/b/c.txt - /foo/c.txt', matched: ['FOO', 'NEEDLE', 'REPLACEMENT'] },
  { input: '${FOO/$NEEDLE/$REPLACEMENT}', env: { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' }, expected: 'https://google.de', matched: ['FOO', 'NEEDLE', 'REPLACEMENT'] },
  { input: '${FOO//\\//\\/}', env: { FOO: '/tmp/foo.txt' }, expected: '\\/tmp\\/foo.txt', matched: ['FOO'] },
  { input: '${FOO/$BAR/ww}', env: { FOO: 'xxyy', BAR: '' }, expected: 'wwxxyy', matched: ['FOO', 'BAR'] },
  { input: '${FOO//ww}', env: { FOO: 'xxyy' }, expected: ERROR },
  { input: '${FOO//}', env: { FOO: 'xxyy' }, expected: ERROR },
  { input: '${FOO///}', env: { FOO: 'xxyy' }, expected: 'xxyy', matched: ['FOO'] },
  { input: '${FOO///}', env: {}, expected: '', unmatched: ['FOO'] },
  // Go's ReplaceAllString expands $0 in the replacement; a single replacement does not.
  { input: '${X//a/$R}|${X/a/$R}', env: { X: 'aXa', R: '<$0$$>' }, expected: '<a$>X<a$>|<$0$$>Xa', matched: ['X', 'R'] },
  { input: '${X//?/-}', env: { X: 'ab\ncd' }, expected: '--\n--', matched: ['X'] },
  { input: '${X##*}', env: { X: 'ab\ncd' }, expected: '\ncd', matched: ['X'] },
];

describe('expand (BuildKit TestProcessWithMatches)', () => {
  for (const c of matchCases) {
    it(`${c.input} with ${JSON.stringify(c.env)}`, () => {
      if (c.expected === ERROR) {
        assert.throws(() => expand(c.input, c.env), ExpansionError);
        return;
      }
      const result = expand(c.input, c.env);
      assert.equal(result.word, c.expected);
      assert.deepEqual([...result.matched].sort(), (c.matched ?? []).sort());
      assert.deepEqual([...result.unmatched].sort(), (c.unmatched ?? []).sort());
    });
  }

  it('expands the platform release-name idiom', () => {
    const release = 'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz';
    const base = { VERSION: 'v1.2.3', TARGETOS: 'linux' };
    assert.equal(expandWord(release, { ...base, TARGETARCH: 'arm', TARGETVARIANT: 'v7' }), 'something-v1.2.3.linux-arm-v7.tar.gz');
    assert.equal(expandWord(release, { ...base, TARGETARCH: 'arm64', TARGETVARIANT: '' }), 'something-v1.2.3.linux-arm64.tar.gz');
    assert.equal(expandWord(release, { ...base, TARGETARCH: 'arm64' }), 'something-v1.2.3.linux-arm64.tar.gz');
  });

  it('reports mandatory variables with their message (TestShellParserMandatoryEnvVars)', () => {
    const noEmpty = '${VAR:?message here$ARG}';
    const noUnset = '${VAR?message here$ARG}';
    assert.equal(expandWord(noEmpty, { VAR: 'plain', ARG: 'x' }), 'plain');
    assert.throws(() => expandWord(noEmpty, { VAR: '', ARG: 'x' }), /VAR: message herex/);
    assert.throws(() => expandWord(noEmpty, { ARG: 'x' }), /VAR: message herex/);
    assert.equal(expandWord(noUnset, { VAR: 'plain', ARG: 'x' }), 'plain');
    assert.equal(expandWord(noUnset, { VAR: '', ARG: 'x' }), '');
    assert.throws(() => expandWord(noUnset, { ARG: 'x' }), /VAR: message herex/);
    assert.throws(() => expandWord('${VAR:?}', {}), /VAR: is not allowed to be unset/);
    assert.throws(() => expandWord('${VAR:?}', { VAR: '' }), /VAR: is not allowed to be empty/);
  });
});

describe('ExpansionError', () => {
  it('names the source and the reason', () => {
    const err = catchError(() => expandWord('a ${B', {}));
    assert.equal(err.source, 'a ${B');
    assert.equal(err.reason, "syntax error: missing '}'");
    assert.equal(err.message, `failed to process "a \${B": syntax error: missing '}'`);
    assert.equal(catchError(() => expandWord('${}', {})).reason, 'syntax error: bad substitution');
    assert.equal(catchError(() => expandWord('${X:=a}', {})).reason, 'unsupported modifier (:=) in substitution');
    assert.equal(catchError(() => expandWord("'abc", {})).reason, 'unexpected end of statement while looking for matching single-quote');
    assert.equal(catchError(() => expandWord('${X#a\\b}', { X: 'ab' })).reason, "invalid pattern (a\\b) in substitution: invalid escape '\\b'");
  });

  it('refuses nesting deep enough to overflow the stack, with an ExpansionError', () => {
    const nested = (n: number) => '${A:-'.repeat(n) + 'x' + '}'.repeat(n);
    assert.equal(expandWord(nested(500), {}), 'x');
    assert.equal(catchError(() => expandWord(nested(100_000), {})).reason, 'substitutions nested too deeply');
    assert.equal(catchError(() => expandWord('"'.concat(nested(100_000), '"'), {})).reason, 'substitutions nested too deeply');
  });

  it('does not treat inherited object properties as variables', () => {
    assert.equal(expandWord('[$constructor][${toString:-unset}]', {}), '[][unset]');
  });
});

function catchError(fn: () => unknown): ExpansionError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ExpansionError, `expected an ExpansionError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an ExpansionError');
}

describe('options', () => {
  it('uses the backtick as escape token', () => {
    const opts: ExpandOptions = { escapeToken: '`' };
    assert.equal(expandWord('C:\\path\\$X', { X: 'x' }, opts), 'C:\\path\\x');
    assert.equal(expandWord('a`$X', { X: 'x' }, opts), 'a$X');
    assert.equal(expandWord('"a`"b"', {}, opts), 'a"b');
    assert.equal(expandWord('"a\\"', {}, opts), 'a\\');
    assert.deepEqual(expandWords('a` b c', {}, opts), ['a b', 'c']);
  });

  it('keeps references to unset variables as written (SkipUnsetEnv)', () => {
    const opts: ExpandOptions = { unset: 'keep' };
    const text = '$A ${A} ${A:-x} ${A+y} ${A/a/b} ${A%%.*} $B';
    assert.equal(expandWord(text, { B: 'b' }, opts), '$A ${A} ${A:-x} ${A+y} ${A/a/b} ${A%%.*} b');
    assert.equal(expandWord(text, { A: 'a.b', B: 'b' }, opts), 'a.b a.b a.b y b.b a b');
  });

  it('refuses unset variables without a default in error mode', () => {
    const opts: ExpandOptions = { unset: 'error' };
    assert.throws(() => expandWord('$A', {}, opts), /variable "A" is not set/);
    assert.throws(() => expandWord('${A#x}', {}, opts), /variable "A" is not set/);
    assert.equal(expandWord('${A:-x}${A+y}${B}', { B: '' }, opts), 'x');
  });

  it('keeps quotes and escapes when asked (RawQuotes, RawEscapes)', () => {
    assert.equal(expandWord(`"a $X" 'b'`, { X: 'x' }, { rawQuotes: true }), `"a x" 'b'`);
    assert.equal(expandWord('a\\ b', {}, { rawEscapes: true }), 'a\\ b');
    assert.equal(expandWord(`'$X' "y"`, { X: 'x' }, { skipQuotes: true }), `'x' "y"`);
  });

  it('treats [ literally unless bracket expressions are on', () => {
    assert.equal(expandWord('${X#[ab]}', { X: '[ab]c' }), 'c');
    assert.equal(expandWord('${X#[ab]}', { X: 'bc' }), 'bc');
    const opts: ExpandOptions = { bracketExpressions: true };
    assert.equal(expandWord('${X#[ab]}', { X: 'bc' }, opts), 'c');
    assert.equal(expandWord('${X#[!a]}', { X: 'bc' }, opts), 'c');
    assert.equal(expandWord('${X#[!b]}', { X: 'bc' }, opts), 'bc');
    assert.equal(expandWord('${X%%[[:digit:]]*}', { X: 'abc123' }, opts), 'abc');
    assert.equal(expandWord('${X//[0-9]/N}', { X: 'a1b22' }, opts), 'aNbNN');
    assert.equal(expandWord('${X#[]a]}', { X: ']b' }, opts), 'b');
    assert.equal(expandWord('${X#[a}', { X: '[ab' }, opts), 'b', 'an unterminated bracket is literal');
  });
});

describe('pattern matching', () => {
  it('agrees with Go-style regular expressions on random patterns', () => {
    const random = prng(20241122);
    for (let n = 0; n < 3000; n++) {
      const pattern = randomString(random, 'ab*?', 5);
      const value = randomString(random, 'ab\n', 8);
      const env = { V: value };
      for (const op of ['#', '##', '%', '%%']) {
        const got = expandWord(`\${V${op}${pattern}}`, env);
        assert.equal(got, referenceTrim(op, pattern, value), `\${V${op}${pattern}} on ${JSON.stringify(value)}`);
      }
      // An empty pattern would turn `${V//-}` into a different operator.
      for (const op of pattern === '' ? [] : ['/', '//']) {
        const got = expandWord(`\${V${op}${pattern}/-}`, env);
        assert.equal(got, referenceReplace(op === '//', pattern, value, '-'), `\${V${op}${pattern}/-} on ${JSON.stringify(value)}`);
      }
    }
  });

  it('stays linear on patterns that make backtracking matchers explode', () => {
    const value = 'a'.repeat(20_000);
    assert.equal(expandWord('${X//*a*a*a*a*a*a*a*a*b/}', { X: value }), value);
    assert.equal(expandWord('${X##*a*a*a*a*a*a*a*a*b}', { X: value }), value);
    assert.equal(expandWord('${X%%a*a*a*a*a*a*a*a*a}', { X: value }), '');
  });
});

// Go's regexp and JavaScript's agree (leftmost-first) on these patterns; Go's `.` excludes only "\n".
function toRegExp(pattern: string, greedy: boolean, anchored: boolean): RegExp {
  const body = [...pattern].map((c) => (c === '*' ? (greedy ? '[^\\n]*' : '[^\\n]*?') : c === '?' ? '[^\\n]' : c)).join('');
  return new RegExp((anchored ? '^' : '') + body, 'g');
}

function referenceTrim(op: string, pattern: string, value: string): string {
  const greedy = op.length === 2;
  const rev = (s: string) => [...s].reverse().join('');
  const suffix = op[0] === '%';
  const subject = suffix ? rev(value) : value;
  const m = toRegExp(suffix ? rev(pattern) : pattern, greedy, true).exec(subject);
  const rest = m ? subject.slice(m[0].length) : subject;
  return suffix ? rev(rest) : rest;
}

function referenceReplace(all: boolean, pattern: string, value: string, replacement: string): string {
  const re = toRegExp(pattern, true, false);
  if (!all) return value.replace(new RegExp(re.source), replacement);
  let out = '';
  let lastEnd = 0;
  for (let pos = 0; pos <= value.length; ) {
    re.lastIndex = pos;
    const m = re.exec(value);
    if (!m) break;
    const [start, end] = [m.index, m.index + m[0].length];
    out += value.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += replacement;
    lastEnd = end;
    pos = Math.max(pos + 1, end);
  }
  return out + value.slice(lastEnd);
}


function randomString(random: () => number, alphabet: string, max: number): string {
  let s = '';
  const len = Math.floor(random() * (max + 1));
  for (let i = 0; i < len; i++) s += alphabet[Math.floor(random() * alphabet.length)];
  return s;
}
