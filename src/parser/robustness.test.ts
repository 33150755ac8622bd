// Robustness property: parse() on thousands of mutated Dockerfiles either returns a well-formed
// Dockerfile or throws a ParseError with a position — never another exception, never a hang.
// Inputs are the Dockerfiles under testdata/ (the corpus included) and the reference parser's
// conformance files in ../shared. The PRNG is seeded: a failure prints the seed, the case number
// and the mutations, and writes the input to a file, so it can be replayed with
// STRATA_ROBUSTNESS_SEED=<seed>.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, ParseError } from './index.js';
import type { Dockerfile, Instruction } from './types.js';
import { prng, type Random } from '../testing/prng.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const conformanceDir = path.join(repoRoot, '..', 'shared', 'conformance', 'buildkit-parser');
const CASES = Number(process.env.STRATA_ROBUSTNESS_CASES ?? 3000);
const SEED = Number(process.env.STRATA_ROBUSTNESS_SEED ?? 0x5eed2);
/** Generous: a parse of a few KB (or one 100k line) takes milliseconds; this catches blow-ups. */
const PER_CALL_LIMIT_MS = 2000;
/** Large inputs are cut to a window of this many lines so that 3000 cases stay fast. */
const WINDOW_LINES = 80;

interface Source {
  file: string;
  text: string;
  /** Known-good input: must parse as is. */
  valid: boolean;
}

function walk(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() && /^(Dockerfile|Containerfile)(\..*)?$|\.dockerfile$/i.test(entry.name)) out.push(full);
  }
  return out;
}

function loadSources(): Source[] {
  const corpus = path.join(repoRoot, 'testdata', 'corpus');
  const positive = path.join(conformanceDir, 'testfiles');
  const files = [...walk(path.join(repoRoot, 'testdata')), ...walk(conformanceDir)];
  return files
    .filter((file) => fs.statSync(file).size <= 256 * 1024)
    .map((file) => ({
      file,
      text: fs.readFileSync(file, 'utf8'),
      valid: file.startsWith(corpus + path.sep) || file.startsWith(positive + path.sep),
    }));
}

// ---- seeded randomness -----------------------------------------------------------------------



const int = (r: Random, n: number) => Math.floor(r() * n);
const pick = <T>(r: Random, items: readonly T[]): T => items[int(r, items.length)]!;

// ---- mutations -------------------------------------------------------------------------------

type Mutation = (text: string, r: Random) => string;

function atRandomPoint(text: string, r: Random, insert: string): string {
  const at = int(r, text.length + 1);
  return text.slice(0, at) + insert + text.slice(at);
}

function mapLines(text: string, fn: (lines: string[]) => void): string {
  const lines = text.split('\n');
  fn(lines);
  return lines.join('\n');
}

const DIRECTIVES = ['# escape=`', '# escape=\\', '# escape=x', '# syntax=docker/dockerfile:1', '# check=skip=all', '#escape =  `', '# directive=value', '# syntax='];
const KEYWORDS = ['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'COPPY', 'onbuild onbuild', 'ONBUILD FROM'];
const ODD_CHARS = ['\0', '\r', '\t', '\v', '\f', '\uFEFF', '\u00a0', '\u2028', '\uD800', '\uDFFF', '😀', '\\', '`', '"', "'", '[', ']', '{', '}', '$', '#', '=', '<<', '-', ' ', '\n'];

const MUTATIONS: Record<string, Mutation> = {
  cutLines: (t, r) => mapLines(t, (l) => l.splice(int(r, l.length), 1 + int(r, 5))),
  truncate: (t, r) => t.slice(0, int(r, t.length + 1)),
  strayQuote: (t, r) => atRandomPoint(t, r, pick(r, ['"', "'", '"[', '["', '"]'])),
  escapeChar: (t, r) =>
    r() < 0.5 ? atRandomPoint(t, r, pick(r, ['\\', '`', '\\\\', '\\ '])) : mapLines(t, (l) => { const i = int(r, l.length); l[i] += pick(r, ['\\', '`', '\\ ', ' \\']); }),
  bracket: (t, r) => atRandomPoint(t, r, pick(r, ['[', ']', '{', '}', '[]', '["a", ', '${', '${X:-', '}}', '[[['])),
  nulBytes: (t, r) => atRandomPoint(t, r, '\0'.repeat(1 + int(r, 3))),
  longLine: (t, r) => {
    const unit = pick(r, ['a', ' ', '\\', '"', '[', 'x=y ', '$A', '\\\n', '#']);
    const line = (r() < 0.5 ? pick(r, ['RUN ', 'ENV ', 'LABEL ', 'COPY ', 'CMD [', '']) : '') + unit.repeat(Math.ceil(100_000 / unit.length));
    return mapLines(t, (l) => l.splice(int(r, l.length + 1), 0, line));
  },
  unterminatedHeredoc: (t, r) =>
    r() < 0.5
      ? `${t}\n${pick(r, ['RUN', 'COPY', 'ADD'])} ${pick(r, ['<<EOF', '<<-EOF', '<<"EOF"', "<<'E O F'", '3<<EOF', '<<EOF <<EOT', '<<'])}${pick(r, ['', ' cat', ' /dst'])}\n${pick(r, ['', 'line\n', '\tEOF \n'])}`
      : mapLines(t, (l) => { const i = int(r, l.length); l[i] += ` <<${pick(r, ['EOF', '-END', '"X"'])}`; }),
  byteFlip: (t, r) => {
    const at = int(r, t.length);
    const ch = r() < 0.5 ? pick(r, ODD_CHARS) : String.fromCharCode(int(r, 0x80));
    return t.slice(0, at) + ch + t.slice(at + 1);
  },
  duplicateLine: (t, r) => mapLines(t, (l) => { const i = int(r, l.length); l.splice(i, 0, l[i]!); }),
  swapLines: (t, r) => mapLines(t, (l) => { const [i, j] = [int(r, l.length), int(r, l.length)]; [l[i], l[j]] = [l[j]!, l[i]!]; }),
  directiveLine: (t, r) => mapLines(t, (l) => l.splice(r() < 0.6 ? 0 : int(r, l.length + 1), 0, pick(r, DIRECTIVES))),
  keywordLine: (t, r) => mapLines(t, (l) => l.splice(int(r, l.length + 1), 0, `${pick(r, KEYWORDS)}${pick(r, ['', ' ', ' --', ' --flag', ' x', ' ["a"', ' \\'])}`)),
  deepNesting: (t, r) => {
    const n = pick(r, [50, 5000, 50_000]);
    const word = pick(r, ['${A:-', '"${A:-', '$(', '[', '{']).repeat(n);
    const line = `${pick(r, ['RUN ', 'RUN <<EOF ', 'COPY <<EOF ', 'ENV A=', 'FROM ', 'ONBUILD '.repeat(n)])}${word}x${r() < 0.5 ? '}'.repeat(n) : ''}`;
    return mapLines(t, (l) => l.splice(int(r, l.length + 1), 0, line, 'EOF'));
  },
  crlf: (t) => t.replace(/\n/g, '\r\n'),
  bom: (t) => '\uFEFF' + t,
};

/** Long lines and deep nesting are costlier, so they come in a fixed share of cases. */
const COSTLY = ['longLine', 'deepNesting'];
const CHEAP = Object.keys(MUTATIONS).filter((name) => !COSTLY.includes(name));

function windowOf(text: string, r: Random): string {
  const lines = text.split('\n');
  if (lines.length <= WINDOW_LINES) return text;
  const start = int(r, lines.length - WINDOW_LINES);
  return lines.slice(start, start + WINDOW_LINES).join('\n');
}

// ---- the property ----------------------------------------------------------------------------

function lineCount(text: string): number {
  return text.split('\n').length;
}

/** Problems with a successful parse result; empty when well-formed. */
function checkResult(result: Dockerfile, lines: number): string[] {
  const problems: string[] = [];
  if (!Array.isArray(result.directives) || !Array.isArray(result.instructions)) return ['result lacks directives or instructions'];
  if (result.escapeToken !== '\\' && result.escapeToken !== '`') problems.push(`bad escape token ${JSON.stringify(result.escapeToken)}`);
  let previousEnd = 0;
  for (const ins of result.instructions) {
    problems.push(...checkInstruction(ins, lines));
    if (ins.startLine <= previousEnd) problems.push(`${ins.keyword} at line ${ins.startLine} overlaps the instruction before (ending at ${previousEnd})`);
    previousEnd = ins.endLine;
  }
  return problems;
}

function checkInstruction(ins: Instruction, lines: number): string[] {
  const problems: string[] = [];
  const where = `${String(ins.keyword)} at ${ins.startLine}-${ins.endLine}`;
  if (typeof ins.keyword !== 'string' || ins.keyword === '') problems.push(`instruction without keyword: ${where}`);
  if (!Number.isInteger(ins.startLine) || !Number.isInteger(ins.endLine)) problems.push(`non-integer lines: ${where}`);
  if (ins.startLine < 1 || ins.startLine > ins.endLine || ins.endLine > lines) problems.push(`lines out of range (file has ${lines}): ${where}`);
  if (!Array.isArray(ins.args) || !ins.args.every((a) => typeof a === 'string')) problems.push(`args not strings: ${where}`);
  if (!Array.isArray(ins.flags) || !ins.flags.every((f) => typeof f === 'string')) problems.push(`flags not strings: ${where}`);
  if (!Array.isArray(ins.heredocs)) problems.push(`heredocs not an array: ${where}`);
  if (typeof ins.original !== 'string') problems.push(`original not a string: ${where}`);
  if (ins.onbuild) problems.push(...checkInstruction(ins.onbuild, lines));
  return problems;
}

interface Outcome {
  ok: boolean;
  problem?: string;
}

function runCase(text: string): Outcome & { ms: number } {
  const lines = lineCount(text);
  const started = performance.now();
  let outcome: Outcome;
  try {
    const problems = checkResult(parse(text), lines);
    outcome = problems.length ? { ok: true, problem: problems.join('; ') } : { ok: true };
  } catch (err) {
    if (!(err instanceof ParseError)) outcome = { ok: false, problem: `threw ${errorText(err)}` };
    else if (!Number.isInteger(err.line) || err.line < 1 || err.line > lines + 1 || !Number.isInteger(err.column) || err.column < 1)
      outcome = { ok: false, problem: `ParseError with a bad position ${err.line}:${err.column}: ${err.message}` };
    // parse() wraps unexpected exceptions as "internal parser error": still a bug to report.
    else if (err.message.startsWith('internal parser error')) outcome = { ok: false, problem: `${err.message} (at ${err.line}:${err.column})` };
    else outcome = { ok: false };
  }
  const ms = performance.now() - started;
  if (!outcome.problem && ms > PER_CALL_LIMIT_MS) outcome = { ...outcome, problem: `took ${Math.round(ms)} ms` };
  return { ...outcome, ms };
}

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}\n${err.stack?.split('\n').slice(1, 4).join('\n') ?? ''}`;
  return String(err);
}

function saveInput(text: string, caseNo: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-robustness-'));
  const file = path.join(dir, `case-${caseNo}.Dockerfile`);
  fs.writeFileSync(file, text);
  return file;
}

describe('parser robustness', () => {
  const sources = loadSources();

  it('its checks reject malformed results (the property can fail)', () => {
    const ins = (over: Partial<Instruction>): Instruction =>
      ({ keyword: 'RUN', flags: [], args: ['x'], json: false, heredocs: [], startLine: 1, endLine: 1, original: 'RUN x', ...over });
    const df = (...instructions: Instruction[]): Dockerfile => ({ directives: [], escapeToken: '\\', instructions });
    assert.deepEqual(checkResult(df(ins({}), ins({ startLine: 2, endLine: 3 })), 3), []);
    assert.notDeepEqual(checkResult(df(ins({ keyword: '' })), 3), []);
    assert.notDeepEqual(checkResult(df(ins({ startLine: 2, endLine: 1 })), 3), []);
    assert.notDeepEqual(checkResult(df(ins({ startLine: 1, endLine: 4 })), 3), []);
    assert.notDeepEqual(checkResult(df(ins({}), ins({})), 3), [], 'overlapping instructions');
    assert.notDeepEqual(checkResult(df(ins({ onbuild: ins({ startLine: 0 }) })), 3), []);
    assert.notDeepEqual(checkResult({ ...df(), escapeToken: 'x' }, 3), []);
  });

  it('finds the inputs: testdata and the reference conformance files', () => {
    assert.ok(sources.length >= 10, `only ${sources.length} input Dockerfiles found under testdata/ and ${conformanceDir}`);
  });

  it('parses every known-good input unmutated', () => {
    const failures = sources.filter((s) => s.valid).map((s) => ({ s, o: runCase(s.text) })).filter(({ o }) => !o.ok || o.problem);
    assert.deepEqual(failures.map(({ s, o }) => `${path.relative(repoRoot, s.file)}: ${o.problem ?? 'ParseError'}`), []);
  });

  it(`returns or throws ParseError on ${CASES} mutated inputs (seed ${SEED})`, () => {
    const r = prng(SEED);
    const failures: string[] = [];
    let parsed = 0;
    for (let n = 0; n < CASES && sources.length > 0 && failures.length < 5; n++) {
      const source = pick(r, sources);
      let text = windowOf(source.text, r);
      const applied: string[] = [];
      const count = 1 + int(r, 3);
      for (let k = 0; k < count; k++) {
        const name = n % 25 === 0 && k === 0 ? COSTLY[(n / 25) % COSTLY.length]! : pick(r, CHEAP);
        text = MUTATIONS[name]!(text, r);
        applied.push(name);
      }
      const outcome = runCase(text);
      if (outcome.ok && !outcome.problem) parsed++;
      if (outcome.problem) {
        const file = saveInput(text, n);
        failures.push(`case ${n} (seed ${SEED}, ${path.relative(repoRoot, source.file)} + ${applied.join(', ')}): ${outcome.problem}\n  input saved to ${file}`);
      }
    }
    assert.deepEqual(failures, [], `replay with STRATA_ROBUSTNESS_SEED=${SEED}`);
    // Most mutations leave a valid Dockerfile; if nothing parses, the test proves nothing.
    assert.ok(parsed > CASES / 5, `only ${parsed} of ${CASES} mutated inputs parsed`);
  });
});
