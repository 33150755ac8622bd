// Placeholder until the parser lands (issue 2).
import type { Dockerfile } from './types.js';

export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

export function parse(_text: string): Dockerfile {
  throw new ParseError('parser not implemented', 1, 1);
}
