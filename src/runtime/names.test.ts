import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADJECTIVES, SURNAMES, freshName, randomName } from './names.js';

describe('container names', () => {
  it('look like adjective_surname', () => {
    for (let i = 0; i < 200; i++) {
      const [adj, surname, ...rest] = randomName().split('_');
      assert.ok(ADJECTIVES.includes(adj!) && SURNAMES.includes(surname!) && rest.length === 0);
    }
  });
  it('get a digit after a collision, as moby does', () => {
    assert.match(randomName(1), /^[a-z]+_[a-z]+[0-9]$/);
  });
  it('avoid names already taken', async () => {
    const taken = new Set<string>();
    for (let i = 0; i < 50; i++) taken.add(await freshName(async (n) => taken.has(n)));
    assert.equal(taken.size, 50);
  });
});
