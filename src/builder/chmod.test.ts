// COPY --chmod values: octal and chmod(1)'s symbolic forms, applied to each entry's own mode.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyChmod, chmodText, parseChmod } from './chmod.js';

describe('--chmod', () => {
  it('takes octal as it is', () => {
    assert.equal(parseChmod('0755'), 0o755);
    assert.equal(applyChmod(parseChmod('640'), 0o777, false), 0o640);
    assert.equal(chmodText(0o640), '0640');
  });

  it('applies symbolic clauses to the entry\'s own mode', () => {
    const m = (spec: string, mode: number, dir = false) => applyChmod(parseChmod(spec), mode, dir).toString(8);
    assert.equal(m('u=rwx,g=rx,o=', 0o644), '750');
    assert.equal(m('a+x', 0o644), '755');
    assert.equal(m('+x', 0o600), '711');
    assert.equal(m('go-w', 0o666), '644');
    assert.equal(m('a+X', 0o600), '600', 'X: not for a file no one may execute');
    assert.equal(m('a+X', 0o700), '711');
    assert.equal(m('a+X', 0o700, true), '711');
    assert.equal(m('a+X', 0o600, true), '711', 'X: always for a directory');
    assert.equal(m('u+s,o+t', 0o755), '5755');
    assert.equal(m('g=u', 0o750), '770');
    assert.equal(m('u=rw-w', 0o000), '400', 'several operators in one clause');
  });

  it('refuses what is neither, with BuildKit\'s words', () => {
    for (const bad of ['u=rwz', '999', 'rwx', '', 'q=r', '07777', 'u=r,']) assert.throws(() => parseChmod(bad), /^Error: invalid chmod parameter: "/, bad);
  });
});
