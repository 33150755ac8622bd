// How each instruction splits its argument text (BuildKit's line_parsers.go). Every
// function takes the text after the flags, already trimmed, and returns raw values.
// Problems are thrown as ArgumentProblem; the caller attaches the source position.

import type { ArgumentRule } from './keywords.js';
import { messages } from './errors.js';
import { parseWords } from './split.js';
import { goQuote } from './quote.js';
import { isGoSpace, isReWhitespace, RE_WHITESPACE, skipGoSpace } from './text.js';

/** A problem with an instruction's arguments; `offset` is relative to the argument text. */
export class ArgumentProblem extends Error {
  constructor(
    message: string,
    readonly offset = 0,
  ) {
    super(message);
  }
}

export interface Arguments {
  args: string[];
  /** True when the values came from a JSON array. */
  json: boolean;
}

const NONE: Arguments = Object.freeze({ args: [], json: false }) as Arguments;

export function splitArguments(
  keyword: string,
  rule: Exclude<ArgumentRule, 'subCommand'>,
  rest: string,
  escapeToken: string,
): Arguments {
  switch (rule) {
    case 'maybeJson':
      return parseMaybeJson(rest);
    case 'maybeJsonList':
      return parseMaybeJsonList(rest);
    case 'whitespace':
      return { args: splitWhitespace(rest), json: false };
    case 'string':
      return { args: rest === '' ? [] : [rest], json: false };
    case 'nameValue':
      return { args: parseNameValue(keyword, rest, escapeToken), json: false };
    case 'nameOrNameValue':
      return { args: parseWords(rest, escapeToken), json: false };
    case 'health':
      return parseHealthcheck(rest);
  }
}

/** reWhitespace.Split(rest, -1); `rest` is trimmed, so no empty words appear. */
export function splitWhitespace(rest: string): string[] {
  if (rest === '') return [];
  for (let i = 0; i < rest.length; i++) {
    if (isReWhitespace(rest.charCodeAt(i))) return rest.split(RE_WHITESPACE);
  }
  return [rest];
}

/** ENV and LABEL: `k=v ...` gives (k, v, "=") triples; legacy `k v` gives one (k, v, ""). */
function parseNameValue(keyword: string, rest: string, escapeToken: string): string[] {
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) return [];
  if (!words[0]!.includes('=')) {
    let i = 0;
    while (i < rest.length && !isReWhitespace(rest.charCodeAt(i))) i++;
    if (i === rest.length) throw new ArgumentProblem(messages.twoArguments(keyword));
    let j = i;
    while (j < rest.length && isReWhitespace(rest.charCodeAt(j))) j++;
    return [rest.slice(0, i), rest.slice(j), ''];
  }
  const args: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) throw new ArgumentProblem(messages.missingEquals(goQuote(word)), Math.max(0, rest.indexOf(word)));
    args.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return args;
}

type JsonOutcome = { ok: true; values: string[] } | { ok: false; notStrings: boolean };

/** A JSON array of strings, as BuildKit's parseJSON reads it (Go's encoding/json). */
export function parseJsonArray(rest: string): JsonOutcome {
  const start = skipGoSpace(rest);
  if (rest.charCodeAt(start) !== 0x5b /* [ */) return { ok: false, notStrings: false };
  let value: unknown;
  try {
    value = JSON.parse(start === 0 ? rest : rest.slice(start));
  } catch {
    return { ok: false, notStrings: false };
  }
  if (!Array.isArray(value)) return { ok: false, notStrings: false };
  // What Go's decoder fails on while JSON.parse does not: numbers beyond float64 (JSON.parse
  // gives Infinity) and nesting deeper than 10000. Both are syntax-level failures there, so
  // the text falls back to shell form rather than being rejected.
  if (!decodableByGo(value)) return { ok: false, notStrings: false };
  const values: string[] = [];
  for (const element of value) {
    if (typeof element !== 'string') return { ok: false, notStrings: true };
    values.push(wellFormed(element));
  }
  return { ok: true, values };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Go decodes a lone surrogate escape ("\ud800") to U+FFFD; JSON.parse keeps it. */
function wellFormed(s: string): string {
  return /[\uD800-\uDFFF]/.test(s) ? s.replace(LONE_SURROGATE, '\uFFFD') : s;
}

const MAX_DEPTH = 10000; // encoding/json's maxNestingDepth

/** Iterative, so that deep nesting cannot overflow the stack. */
function decodableByGo(root: unknown[]): boolean {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return false;
    } else if (value !== null && typeof value === 'object') {
      if (depth > MAX_DEPTH) return false;
      for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push([child, depth + 1]);
    }
  }
  return true;
}

/** RUN, CMD, ENTRYPOINT, SHELL: a JSON array, else the whole text as one value. */
export function parseMaybeJson(rest: string): Arguments {
  if (rest === '') return NONE;
  const json = parseJsonArray(rest);
  if (json.ok) return { args: json.values, json: true };
  if (json.notStrings) throw new ArgumentProblem(messages.notStringArray());
  return { args: [rest], json: false };
}

/** ADD, COPY, VOLUME: a JSON array, else whitespace-separated words. */
export function parseMaybeJsonList(rest: string): Arguments {
  const json = parseJsonArray(rest);
  if (json.ok) return { args: json.values, json: true };
  if (json.notStrings) throw new ArgumentProblem(messages.notStringArray());
  return { args: splitWhitespace(rest), json: false };
}

/** HEALTHCHECK: the first word (NONE, CMD, ...) then the command like RUN. */
function parseHealthcheck(rest: string): Arguments {
  let sep = 0;
  while (sep < rest.length && !isGoSpaceAscii(rest.charCodeAt(sep))) sep++;
  if (sep === 0) return NONE;
  let next = sep;
  while (next < rest.length && isGoSpaceAscii(rest.charCodeAt(next))) next++;
  let command: Arguments;
  try {
    command = parseMaybeJson(rest.slice(next));
  } catch (err) {
    if (err instanceof ArgumentProblem) throw new ArgumentProblem(err.message, next + err.offset);
    throw err;
  }
  return { args: [rest.slice(0, sep), ...command.args], json: command.json };
}

/** BuildKit tests single bytes here; on characters only ASCII can match (see isByteSpace). */
function isGoSpaceAscii(c: number): boolean {
  return c < 0x80 && isGoSpace(c);
}
