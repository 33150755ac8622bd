// Building an Instruction from one logical line: the postprocessor the grammar calls for
// every instruction token. Splits the command word, flags and arguments, nests ONBUILD
// triggers, attaches heredoc bodies and validates; every failure becomes a ParseError at
// the source line and column it concerns.

import type { Heredoc, Instruction } from './types.js';
import type { HeredocBody, LogicalLine } from './lexer.js';
import { locate } from './lexer.js';
import { messages, ParseError, suggest } from './errors.js';
import { chompTabs } from './heredoc.js';
import { ARGUMENT_RULES, KEYWORDS, lookupKeyword } from './keywords.js';
import { ArgumentProblem, splitArguments, type Arguments } from './line-parsers.js';
import { splitCommand } from './split.js';
import { validate } from './validate.js';

export function buildInstruction(line: LogicalLine): Instruction {
  const instruction = fromText(line, line.text, 0);
  if (line.heredocs.length > 0) {
    // Heredocs belong to the instruction that runs them: the trigger, for ONBUILD.
    const owner = instruction.onbuild ?? instruction;
    owner.heredocs = line.heredocs.map(toHeredoc);
  }
  return instruction;
}

function fail(line: LogicalLine, offset: number, message: string): ParseError {
  const at = locate(line.pieces, offset);
  return new ParseError(message, at.line, at.column, { endLine: line.endLine });
}

/** Builds the instruction written at `text`, which starts at `base` in the logical line. */
function fromText(line: LogicalLine, text: string, base: number): Instruction {
  const command = splitCommand(text);
  const keyword = lookupKeyword(command.command);
  if (!keyword) {
    if (line.strict) {
      throw fail(line, base + command.commandOffset, messages.unknownInstruction(command.command, suggest(command.command, KEYWORDS)));
    }
    return unknownInstruction(line, command.command.toUpperCase(), command.flags, base === 0 ? line.original : originalFrom(line, base + command.commandOffset));
  }
  const restOffset = base + command.restOffset;
  const rule = ARGUMENT_RULES[keyword]!;
  let onbuild: Instruction | undefined;
  let parsed: Arguments = { args: [], json: false };
  if (rule === 'subCommand') {
    // Refuse a chain before descending, so ONBUILD ONBUILD ... cannot recurse deeply.
    if (line.strict && lookupKeyword(splitCommand(command.rest).command) === 'ONBUILD') throw fail(line, restOffset, messages.onbuildChain());
    if (command.rest !== '') onbuild = fromText(line, command.rest, restOffset);
  } else {
    try {
      parsed = splitArguments(keyword, rule, command.rest, line.escapeToken);
    } catch (err) {
      if (err instanceof ArgumentProblem) throw fail(line, restOffset + err.offset, err.message);
      throw err;
    }
  }
  const instruction: Instruction = {
    keyword,
    flags: command.flags,
    args: parsed.args,
    json: parsed.json,
    heredocs: [],
    startLine: line.startLine,
    endLine: line.endLine,
    original: base === 0 ? line.original : originalFrom(line, base + command.commandOffset),
  };
  if (onbuild) instruction.onbuild = onbuild;
  const problem = line.strict ? validate(instruction) : undefined;
  if (problem) throw fail(line, command.rest === '' ? base + command.commandOffset : restOffset, problem);
  return instruction;
}

/** Lenient mode: BuildKit's parser keeps an unknown instruction with one empty argument. */
function unknownInstruction(line: LogicalLine, keyword: string, flags: string[], original: string): Instruction {
  return { keyword, flags, args: [''], json: false, heredocs: [], startLine: line.startLine, endLine: line.endLine, original };
}

/** The part of the instruction's original text from a logical offset on (an ONBUILD trigger). */
function originalFrom(line: LogicalLine, offset: number): string {
  const at = locate(line.pieces, offset);
  let index = at.column - line.pieces[0]!.column;
  if (at.line > line.startLine) {
    let newline = -1;
    for (let n = line.startLine; n < at.line; n++) newline = line.original.indexOf('\n', newline + 1);
    index = newline + at.column;
  }
  return line.original.slice(Math.max(0, index));
}

function toHeredoc(body: HeredocBody): Heredoc {
  const { header } = body;
  const heredoc: Heredoc = {
    name: header.name,
    content: header.chomp ? chompTabs(body.content) : body.content,
    expand: header.expand,
    chomp: header.chomp,
  };
  if (header.fileDescriptor !== undefined) heredoc.fileDescriptor = header.fileDescriptor;
  return heredoc;
}
