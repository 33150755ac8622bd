import { parse } from '../parser/index.js';
import type { Store } from '../store/index.js';

export const build = (store?: Store): unknown => [parse(), store];
