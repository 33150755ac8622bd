import { TreeError } from '../errors.js';
import { hash } from '../hash/index.js';

export class Store {
  id = hash('x');
  fail(): never {
    throw new TreeError('no');
  }
}
