import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuildError } from './builder/errors.js';
import { StrataError } from './errors.js';

describe('StrataError', () => {
  it('is recognised across copies of its module (the CLI bundles and the ES modules)', async () => {
    // A second copy of the module, as a bundle carries: same source, separate class.
    const copy = (await import(`./errors.js?copy=${Date.now()}`)) as typeof import('./errors.js');
    assert.notEqual(copy.StrataError, StrataError);
    const other = new copy.StrataError('from the other copy', 127);
    assert.ok(other instanceof StrataError);
    assert.ok(new StrataError('ours') instanceof copy.StrataError);
    assert.equal((other as StrataError).exitCode, 127);
  });

  it('keeps subclasses and plain errors apart', () => {
    assert.ok(new BuildError('x') instanceof StrataError);
    assert.ok(new BuildError('x') instanceof BuildError);
    assert.ok(!(new StrataError('x') instanceof BuildError));
    assert.ok(!(new Error('x') instanceof StrataError));
    assert.ok(!(Object.assign(new Error('x'), { name: 'StrataError', exitCode: 1 }) instanceof StrataError));
    assert.ok(!((null as unknown as object) instanceof StrataError));
  });
});
