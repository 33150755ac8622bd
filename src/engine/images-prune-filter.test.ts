// `image prune --filter`: until, label and label!, as Docker's prune filters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Image } from '../store/index.js';
import { imagePruneFilter } from './images-rules.js';

const img = (id: string, created: string, labels: Record<string, string> = {}) => ({ id, config: { created, config: { Labels: labels } } }) as unknown as Image;
const images = [img('old', '2024-01-01T00:00:00Z', { keep: 'yes' }), img('new', '2024-06-01T00:00:00Z', { team: 'a' }), img('bare', '2024-03-01T00:00:00Z')];
const parse = (t: string) => BigInt(Date.parse(t)) * 1_000_000n;
const ids = (...filters: string[]) => images.filter(imagePruneFilter(filters, parse)).map((i) => i.id);

test('prune filters: until keeps what is newer, label selects, label! spares', () => {
  assert.deepEqual(ids(), ['old', 'new', 'bare']);
  assert.deepEqual(ids('until=2024-04-01T00:00:00Z'), ['old', 'bare']);
  assert.deepEqual(ids('label=team'), ['new']);
  assert.deepEqual(ids('label=team=b'), []);
  assert.deepEqual(ids('label!=keep'), ['new', 'bare']);
  assert.deepEqual(ids('label!=keep=yes', 'until=2024-04-01T00:00:00Z'), ['bare']);
  assert.throws(() => imagePruneFilter(['dangling=true'], parse), /invalid filter "dangling": image prune supports until, label, label!/);
});
