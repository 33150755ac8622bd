// For the build engine's unit tests: Dockerfile text to the raw AST, through the real parser.
import { parse } from '../../parser/index.js';
import type { Dockerfile } from '../../parser/types.js';

export function parseForTest(text: string): Dockerfile {
  return parse(text);
}
