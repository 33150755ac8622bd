import assert from 'node:assert/strict';
import { it } from 'node:test';
import { topRows } from './stats.js';

it("top's STIME: the start's time today, ps's month and day before", () => {
  const [today] = topRows([process.pid]);
  assert.match(today![4]!, /^\d\d:\d\d$/);
  const started = new Date(Date.now() - process.uptime() * 1000);
  const [later] = topRows([process.pid], started.getTime() + 3 * 86_400_000);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][started.getMonth()];
  assert.equal(later![4], `${month}${String(started.getDate()).padStart(2, '0')}`);
});
