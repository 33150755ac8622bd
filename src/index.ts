// The library's public entry point.
export { parse, ParseError } from './parser/index.js';
export type { Dockerfile, Instruction, Directive, Heredoc } from './parser/index.js';
export { Containers } from './engine/index.js';
export type {
  AttachRequest, AttachResult, CommitRequest, ContainerListEntry, ContainerSize, CopyRequest, CreateContainerOptions, ExecRequest, ForegroundIo, ListOptions, PruneResult,
} from './engine/index.js';
