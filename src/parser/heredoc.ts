// Finding the heredocs an instruction opens (BuildKit parser.go heredocsFromLine and
// ParseHeredoc): the logical line is split into shell words, and every word of the form
// `[fd]<<[-]WORD` opens one; quoting any part of WORD turns expansion off.

import { expand, ExpansionError } from './expand.js';
import { goQuote } from './quote.js';

export interface HeredocHeader {
  /** The terminator word, quotes removed. */
  name: string;
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body and the terminator line. */
  chomp: boolean;
  fileDescriptor?: number;
  /** Offset of the `<<` word in the line the header was read from. */
  offset: number;
}

/** A heredoc word that cannot be lexed (e.g. `<<"EOF`); carries BuildKit's wording. */
export class HeredocSyntaxError extends Error {}

// BuildKit's `^(\d*)<<(-?)\s*([^<]*)$`, split in two so that no input can make it backtrack.
const HEREDOC_START = /^(\d*)<<(-?)/;

/** The heredoc a single word opens, or undefined when the word is not a heredoc marker. */
export function parseHeredocWord(word: string): Omit<HeredocHeader, 'offset'> | undefined {
  const match = HEREDOC_START.exec(word);
  if (!match) return undefined;
  const fd = match[1]!;
  const dash = match[2]!;
  if (word.indexOf('<', match[0].length) >= 0) return undefined;
  let start = match[0].length;
  while (start < word.length && ' \t\n\f\r'.includes(word[start]!)) start++;
  const rest = word.slice(start);
  if (rest === '') return undefined;
  const words = lex(rest, false);
  if (words.length !== 1) return undefined;
  const raw = lex(rest, true);
  if (raw.length !== words.length) throw new HeredocSyntaxError(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const name = words[0]!;
  const header: Omit<HeredocHeader, 'offset'> = { name, expand: countQuotes(name) === countQuotes(raw[0]!), chomp: dash === '-' };
  if (fd !== '') {
    const n = Number(fd);
    if (Number.isSafeInteger(n)) header.fileDescriptor = n;
  }
  return header;
}

/** No variable is set: every reference stays as written (BuildKit's SkipUnsetEnv). */
const NO_VARS = new Map<string, string>();

/** Words as BuildKit's lexer splits a line to find heredocs. */
function shellWords(text: string, raw: { rawQuotes: boolean; rawEscapes: boolean }): string[] {
  return expand(text, NO_VARS, { ...raw, unset: 'keep', heredocs: true }).words;
}

/** ${...} nested deeper than the lexer follows: no heredoc is looked for there. */
const tooDeep = (err: ExpansionError) => err.reason === 'substitutions nested too deeply';

function lex(rest: string, rawQuotes: boolean): string[] {
  try {
    return shellWords(rest, { rawQuotes, rawEscapes: false });
  } catch (err) {
    if (err instanceof ExpansionError && !tooDeep(err)) throw new HeredocSyntaxError(`failed to process ${goQuote(rest)}: ${err.reason}`);
    if (err instanceof ExpansionError) return [];
    throw err;
  }
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x27 || c === 0x22) n++;
  }
  return n;
}

/**
 * The heredocs a logical line opens, in order. A line that does not lex (an unterminated
 * quote) opens none, as in BuildKit, which ignores that error here.
 */
export function heredocsFromLine(line: string): HeredocHeader[] {
  let words: string[];
  try {
    words = shellWords(line, { rawQuotes: true, rawEscapes: true });
  } catch (err) {
    // BuildKit ignores lexing errors here (and ${...} nested too deep to follow opens nothing).
    if (err instanceof ExpansionError) return [];
    throw err;
  }
  const headers: HeredocHeader[] = [];
  let searchFrom = 0;
  for (const word of words) {
    const header = parseHeredocWord(word);
    if (!header) continue;
    const at = line.indexOf(word.slice(0, word.indexOf('<<') + 2), searchFrom);
    const offset = at < 0 ? 0 : at;
    searchFrom = offset + 1;
    headers.push({ ...header, offset });
  }
  return headers;
}

/** Removes leading tabs from every line of a `<<-` body. */
export function chompTabs(content: string): string {
  if (!content.includes('\t')) return content;
  return content
    .split('\n')
    .map((line) => line.replace(/^\t+/, ''))
    .join('\n');
}
