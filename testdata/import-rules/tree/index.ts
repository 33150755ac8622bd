export { engine } from './engine/index.js';
