// Stage one of lexing: moo cuts the text into physical lines and classifies each one.
// Whether a line is blank or a comment is all the structure a Dockerfile has below the
// instruction level, and deciding it inside moo's single compiled regex keeps the per-line
// cost to one native match.

import moo from 'moo';

// Go's unicode.IsSpace without the newline, which ends a line.
const SPACE = '[\\t\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';

/** Token types: `comment` (first non-space character is `#`), `blank` (only spaces), `text`. */
export type LineType = 'comment' | 'blank' | 'text';

export interface PhysicalLine {
  type: LineType;
  /** The line with its "\n" (absent on a last line without one). */
  text: string;
  /** Offset of the line in the input. */
  offset: number;
  /** 1-based line number. */
  line: number;
}

const rules = {
  comment: { match: new RegExp(`${SPACE}*#[^\\n]*\\n?`), lineBreaks: true },
  // (?![^\n]) rather than $: moo compiles with the m flag, where $ also matches before \r.
  blank: { match: new RegExp(`${SPACE}*\\n|${SPACE}+(?![^\\n])`), lineBreaks: true },
  text: { match: /[^\n]+\n?|\n/, lineBreaks: true },
};

// Compiled once, at the first parse (not when the module loads: every strata command loads the
// parser with the services, and compiling moo's rules took ~5 ms of each); each parse clones it
// (moo's clone shares the compiled rules).
let template: (moo.Lexer & { clone(): moo.Lexer }) | undefined;

/** A fresh physical-line lexer over `text` (moo lexers are stateful, so one per parse). */
export function physicalLines(text: string): { next(): PhysicalLine | undefined } {
  // Made at the first next(): the grammar module makes a lexer over "" when it loads.
  let lexer: moo.Lexer | undefined;
  return {
    next(): PhysicalLine | undefined {
      if (!lexer) {
        template ??= moo.compile(rules) as moo.Lexer & { clone(): moo.Lexer };
        lexer = template.clone();
        lexer.reset(text);
      }
      const token = lexer.next();
      if (!token) return undefined;
      return { type: token.type as LineType, text: token.text, offset: token.offset, line: token.line };
    },
  };
}
