// mount(8)'s failures are reported without the temporary directory strata mounted on.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { mountFailure } from './rootfs.js';

it("names mount's cause, not the temporary root", () => {
  const temp = '/tmp/strata-root-Ab12Cd';
  const err = { stderr: `mount: ${temp}/m: wrong fs type, bad option, bad superblock on overlay.\n` };
  assert.equal(mountFailure(err, temp), 'wrong fs type, bad option, bad superblock on overlay.');
  assert.equal(mountFailure(new Error('spawn mount ENOENT'), temp), 'spawn mount ENOENT');
});
