// For the build engine's unit tests: Dockerfile text to the raw AST, through the real parser.
import { parse, type Dockerfile } from '../../parser/index.js';

export function parseForTest(text: string): Dockerfile {
  return parse(text);
}
