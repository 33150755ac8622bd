// The `result` format of BuildKit's parser tests (Node.Dump): one s-expression per
// instruction, values Go-quoted. The conformance test and `strata parse` both print it.

import type { Dockerfile, Instruction } from './types.js';
import { goQuote, goQuoteList } from './quote.js';

/** One instruction without the outer parentheses: `run ["--mount=x"] "echo hi"`. */
function dump(instruction: Instruction): string {
  let out = instruction.keyword.toLowerCase();
  if (instruction.flags.length > 0) out += ` ${goQuoteList(instruction.flags)}`;
  if (instruction.onbuild) return `${out} (${dump(instruction.onbuild)})`;
  for (const arg of instruction.args) out += ` ${goQuote(arg)}`;
  return out;
}

/** `(run "echo hi")` */
export function renderInstruction(instruction: Instruction): string {
  // Node.Dump trims its output; that only shows for an empty keyword (lenient mode).
  return `(${instruction.keyword === '' ? dump(instruction).trimStart() : dump(instruction)})`;
}

/** The whole file, one line per instruction, each ending in "\n". */
export function renderResult(dockerfile: Dockerfile): string {
  let out = '';
  for (const instruction of dockerfile.instructions) out += `${renderInstruction(instruction)}\n`;
  return out;
}
