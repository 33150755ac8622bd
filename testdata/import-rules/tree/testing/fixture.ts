import { Store } from '../store/store.js';

export const fixture = new Store();
