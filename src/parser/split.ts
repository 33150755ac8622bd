// Splitting one logical line into its command word, its flags and the rest (BuildKit's
// split_command.go), and the quote-aware word splitter that ENV, LABEL and ARG use
// (line_parsers.go parseWords). Offsets are kept so errors can point at a column.

import { isByteSpace, isGoSpace, isReWhitespace, trimGoSpace } from './text.js';

export interface CommandLine {
  /** The command word as written (any case). */
  command: string;
  /** Offset of the command word in the line. */
  commandOffset: number;
  /** Flags with quotes and backslash escapes processed: "--from=build". */
  flags: string[];
  /** The arguments after the flags, trimmed (may be empty). */
  rest: string;
  /** Offset of `rest` in the line. */
  restOffset: number;
}

export function splitCommand(line: string): CommandLine {
  const { text, start } = trimGoSpace(line);
  let i = 0;
  while (i < text.length && !isReWhitespace(text.charCodeAt(i))) i++;
  const command = text.slice(0, i);
  if (i === text.length) return { command, commandOffset: start, flags: [], rest: '', restOffset: start + i };
  let j = i;
  while (j < text.length && isReWhitespace(text.charCodeAt(j))) j++;
  const { flags, restIndex } = extractFlags(text, j);
  const rest = trimGoSpace(text.slice(restIndex));
  return { command, commandOffset: start, flags, rest: rest.text, restOffset: start + restIndex + rest.start };
}

const SPACES = 0;
const WORD = 1;
const QUOTE = 2;
const DASH = 0x2d;
const BACKSLASH = 0x5c;
const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;

/**
 * Leading `--flag[=value]` words from `line[from..]`. Quotes group and disappear, a backslash
 * escapes the next character, and a bare `--` ends the flags. Returns where the rest starts.
 */
function extractFlags(line: string, from: number): { flags: string[]; restIndex: number } {
  const flags: string[] = [];
  let phase = SPACES;
  let word = '';
  let quote = 0;
  let blankOk = false;
  for (let pos = from; pos <= line.length; pos++) {
    const ch = pos < line.length ? line.charCodeAt(pos) : -1;
    if (phase === SPACES) {
      if (pos === line.length) break;
      if (isByteSpace(ch)) continue;
      if (ch !== DASH || pos + 1 === line.length || line.charCodeAt(pos + 1) !== DASH) return { flags, restIndex: pos };
      phase = WORD;
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOk || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === WORD) {
      if (isByteSpace(ch)) {
        phase = SPACES;
        if (word === '--') return { flags, restIndex: pos };
        if (blankOk || word.length > 0) flags.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === SINGLE_QUOTE || ch === DOUBLE_QUOTE) {
        quote = ch;
        blankOk = true;
        phase = QUOTE;
        continue;
      }
      if (ch === BACKSLASH) {
        if (pos + 1 === line.length) continue;
        pos++;
      }
      word += line[pos];
      continue;
    }
    if (ch === quote) {
      phase = WORD;
      continue;
    }
    if (ch === BACKSLASH) {
      if (pos + 1 === line.length) {
        phase = WORD;
        continue;
      }
      pos++;
    }
    word += line[pos];
  }
  return { flags, restIndex: line.length };
}

/**
 * Whitespace-separated words where quotes group (and are kept) and the escape token
 * escapes the next character (and is kept): BuildKit's parseWords.
 */
export function parseWords(rest: string, escapeToken: string): string[] {
  const escape = escapeToken.charCodeAt(0);
  const words: string[] = [];
  let phase = SPACES;
  let quote = 0;
  let blankOk = false;
  let word = '';
  let width = 0;
  for (let pos = 0; pos <= rest.length; pos += width) {
    let ch = -1;
    if (pos < rest.length) {
      ch = rest.codePointAt(pos)!;
      width = ch > 0xffff ? 2 : 1;
    }
    if (phase === SPACES) {
      if (pos === rest.length) break;
      if (isGoSpace(ch)) continue;
      phase = WORD;
    }
    if (pos === rest.length) {
      if (blankOk || word.length > 0) words.push(word);
      break;
    }
    if (phase === WORD) {
      if (isGoSpace(ch)) {
        phase = SPACES;
        if (blankOk || word.length > 0) words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === SINGLE_QUOTE || ch === DOUBLE_QUOTE) {
        quote = ch;
        blankOk = true;
        phase = QUOTE;
      }
      if (ch === escape) {
        if (pos + width === rest.length) continue; // an escape token at the very end is dropped
        word += rest.slice(pos, pos + width);
        pos += width;
        ch = rest.codePointAt(pos)!;
        width = ch > 0xffff ? 2 : 1;
      }
      word += rest.slice(pos, pos + width);
      continue;
    }
    if (ch === quote) phase = WORD;
    if (ch === escape && quote !== SINGLE_QUOTE) {
      if (pos + width === rest.length) {
        phase = WORD;
        continue;
      }
      word += rest.slice(pos, pos + width);
      pos += width;
      ch = rest.codePointAt(pos)!;
      width = ch > 0xffff ? 2 : 1;
    }
    word += rest.slice(pos, pos + width);
  }
  return words;
}
