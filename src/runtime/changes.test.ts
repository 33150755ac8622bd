import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyChanges, splitWords } from './changes.js';

describe('commit -c changes', () => {
  const base = { Env: ['PATH=/bin', 'A=1'], Cmd: ['sh'], WorkingDir: '/app' };
  it('applies CMD and ENTRYPOINT in exec and shell form', () => {
    assert.deepEqual(applyChanges(base, ['CMD ["cat","/FILE"]']).Cmd, ['cat', '/FILE']);
    assert.deepEqual(applyChanges(base, ['CMD echo hi']).Cmd, ['/bin/sh', '-c', 'echo hi']);
    const ep = applyChanges(base, ['ENTRYPOINT ["/init"]']);
    assert.deepEqual(ep.Entrypoint, ['/init']);
    assert.equal(ep.Cmd, null, 'an ENTRYPOINT resets the inherited CMD');
    assert.deepEqual(applyChanges(base, ['CMD ["x"]', 'ENTRYPOINT ["/init"]']).Cmd, ['x']);
  });
  it('applies ENV, LABEL, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL', () => {
    const c = applyChanges(base, ['ENV A=2 B="two words"', 'ENV C 3', 'LABEL a=b "c d"=e', 'EXPOSE 80 53/udp', 'USER nobody', 'WORKDIR sub', 'VOLUME ["/data"]', 'STOPSIGNAL SIGINT']);
    assert.deepEqual(c.Env, ['PATH=/bin', 'A=2', 'B=two words', 'C=3']);
    assert.deepEqual(c.Labels, { a: 'b', 'c d': 'e' });
    assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
    assert.equal(c.User, 'nobody');
    assert.equal(c.WorkingDir, '/app/sub');
    assert.deepEqual(c.Volumes, { '/data': {} });
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(base.Env, ['PATH=/bin', 'A=1'], 'the input is not modified');
  });
  it('refuses instructions Docker does not accept there', () => {
    assert.throws(() => applyChanges(base, ['RUN echo']), /RUN is not a valid change command/);
  });
  it('splits quoted words', () => {
    assert.deepEqual(splitWords(`a "b c" 'd e' f\\ g`), ['a', 'b c', 'd e', 'f g']);
  });
});
