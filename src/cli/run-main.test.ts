import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StrataError } from '../errors.js';
import { exitCodeOf } from './run-main.js';

describe('run-main exitCodeOf', () => {
  it('takes the code of our StrataError', () => {
    assert.equal(exitCodeOf(new StrataError('x', 127)), 127);
  });

  it("takes the code of the other copy's StrataError (the bundle's modules vs dist's)", () => {
    class StrataErrorCopy extends Error {
      override readonly name = 'StrataError';
      constructor(message: string, readonly exitCode: number) {
        super(message);
      }
    }
    assert.equal(exitCodeOf(new StrataErrorCopy('x', 126)), 126);
  });

  it('leaves any other error to the default (125)', () => {
    assert.equal(exitCodeOf(Object.assign(new Error('x'), { exitCode: 3 })), undefined);
    assert.equal(exitCodeOf('text'), undefined);
    assert.equal(exitCodeOf(undefined), undefined);
  });
});
