// Tests may reach into any folder's internals.
import { state } from '../runtime/shim/state.js';
import { Store } from '../store/store.js';
import { fixture } from '../testing/fixture.js';

export const checks = [state, new Store(), fixture];
