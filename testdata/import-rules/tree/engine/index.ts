import { build } from '../builder/index.js';
import { run } from '../runtime/index.js';

export const engine = { build, run };
