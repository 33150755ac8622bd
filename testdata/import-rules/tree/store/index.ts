export { Store } from './store.js';
