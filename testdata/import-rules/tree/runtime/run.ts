import { Store } from '../store/index.js';
import { state } from './shim/state.js';

export const run = (): unknown => [new Store(), state];
