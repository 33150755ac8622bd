// The library's public entry point.
export { parse, ParseError } from './parser/index.js';
export type { Dockerfile, Instruction, Directive, Heredoc } from './parser/index.js';
