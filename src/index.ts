// The library's public entry point: the Dockerfile parser and the engine's services.
export { parse, ParseError } from './parser/index.js';
export type { Dockerfile, Instruction, Directive, Heredoc } from './parser/index.js';
export * from './engine/index.js';
