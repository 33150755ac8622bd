// The parser's entry point: text in, the raw instruction tree out (or a ParseError).

import nearley from 'nearley';
import type { Directive, Dockerfile, Instruction } from './types.js';
import grammar from './grammar.generated.js';
import { DockerfileLexer } from './lexer.js';
import { messages, ParseError } from './errors.js';

export { ParseError } from './errors.js';
export { renderResult, renderInstruction } from './render.js';
export { goQuote, goQuoteList, goQuoteRune } from './quote.js';
export { expand, expandWord, expandWords, ExpansionError, type Env, type ExpandOptions, type Expansion } from './expand.js';
export type * from './types.js';

/** The grammar's tables, made at the first parse rather than when the module loads (see physical.ts). */
let compiled: nearley.Grammar | undefined;

interface Cell<T> {
  prev: Cell<T> | null;
  value: T;
}

function flatten<T>(cell: Cell<T> | null): T[] {
  const out: T[] = [];
  for (let c = cell; c; c = c.prev) out.push(c.value);
  return out.reverse();
}

export interface ParseOptions {
  /**
   * True (the default): also reject what BuildKit refuses after parsing — unknown
   * instructions (with a "did you mean" suggestion), missing or surplus arguments, blank
   * names, bad stage names, SHELL outside JSON form, forbidden ONBUILD triggers. False: accept
   * exactly what BuildKit's parser accepts; an unknown instruction is kept, with one empty argument as
   * BuildKit's parseIgnore leaves it.
   */
  strict?: boolean;
}

/**
 * Parses a Dockerfile the way BuildKit's parser does. Throws ParseError — and only
 * ParseError — for any input it cannot accept.
 */
export function parse(text: string, options: ParseOptions = {}): Dockerfile {
  const lexer = new DockerfileLexer(options.strict ?? true);
  compiled ??= nearley.Grammar.fromCompiled(grammar as unknown as nearley.CompiledRules);
  try {
    const parser = new nearley.Parser(compiled, { lexer: lexer as unknown as nearley.Lexer });
    parser.feed(text);
    if (lexer.error) throw lexer.error;
    const result = parser.results[0] as { directives: Cell<Directive> | null; instructions: Cell<Instruction> } | undefined;
    if (!result) throw new ParseError(messages.noInstructions(), Math.max(1, lexer.lastLine), 1);
    const dockerfile: Dockerfile = { directives: flatten(result.directives), escapeToken: lexer.escapeToken, instructions: flatten(result.instructions) };
    if (lexer.warnings.length > 0) dockerfile.warnings = lexer.warnings;
    return dockerfile;
  } catch (err) {
    if (err instanceof ParseError) throw err;
    // Anything else is a bug (or the engine running out of room); callers still get the one type.
    const message = err instanceof Error ? err.message : String(err);
    throw new ParseError(`internal parser error: ${message}`, Math.max(1, lexer.lastLine), 1);
  }
}
