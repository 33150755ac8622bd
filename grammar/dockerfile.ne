# The Dockerfile grammar. The lexer (src/parser/lexer.ts, over moo) hands over one token per
# parser directive and one per instruction — a whole logical line with its heredoc bodies —
# so the Earley parser does constant work per instruction. Arguments are split in plain
# TypeScript by buildInstruction, the postprocessor of `instruction`.
#
# Lists are built as linked cells ({ prev, value }) and flattened once after parsing:
# nearley runs a rule's postprocessor every time the rule completes, and `main` completes
# after every instruction, so anything heavier here would cost O(n²).

@preprocessor typescript

@{%
import { DockerfileLexer } from './lexer.js';
import { buildInstruction } from './instruction.js';

// The grammar's own lexer instance only answers has(); parse() gives nearley a fresh one.
const lexer = new DockerfileLexer();
%}

@lexer lexer

# Directives come first (the lexer only recognises them at the top); a Dockerfile needs at
# least one instruction, so an empty or comment-only file has no parse.
main -> directives instructions
  {% ([directives, instructions]) => ({ directives, instructions }) %}

directives -> null {% () => null %}
  | directives %directive {% ([prev, token]) => ({ prev, value: token.value }) %}

instructions -> instruction {% ([value]) => ({ prev: null, value }) %}
  | instructions instruction {% ([prev, value]) => ({ prev, value }) %}

instruction -> %instruction {% ([token]) => buildInstruction(token.value) %}
