import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StrataError } from '../errors.js';
import { applyChanges } from './changes.js';

describe('commit -c changes, through the Dockerfile parser', () => {
  const base = { Env: ['PATH=/bin', 'A=1'], Cmd: ['sh'], WorkingDir: '/app' };
  it('applies CMD and ENTRYPOINT in exec and shell form', async () => {
    assert.deepEqual((await applyChanges(base, ['CMD ["cat","/FILE"]'])).Cmd, ['cat', '/FILE']);
    assert.deepEqual((await applyChanges(base, ['CMD echo hi'])).Cmd, ['/bin/sh', '-c', 'echo hi']);
    const ep = await applyChanges(base, ['ENTRYPOINT ["/init"]']);
    assert.deepEqual(ep.Entrypoint, ['/init']);
    assert.equal(ep.Cmd, null, 'an ENTRYPOINT resets the inherited CMD');
    assert.deepEqual((await applyChanges(base, ['CMD ["x"]', 'ENTRYPOINT ["/init"]'])).Cmd, ['x']);
    const shelled = await applyChanges(base, ['SHELL ["/bin/ash", "-e", "-c"]', 'CMD echo hi']);
    assert.deepEqual(shelled.Cmd, ['/bin/ash', '-e', '-c', 'echo hi'], 'shell form goes through SHELL');
  });

  it('applies ENV (expanded as Docker does), LABEL, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD, HEALTHCHECK', async () => {
    const c = await applyChanges(base, [
      'ENV A=2 B="two words"', 'ENV C 3', 'ENV D=${A}-$C', 'LABEL a=b "c d"=e', 'EXPOSE 80 53/UDP', 'USER nobody', 'WORKDIR sub',
      'VOLUME ["/data"]', 'VOLUME /v1 /v2', 'STOPSIGNAL SIGINT', 'ONBUILD RUN echo later',
      'HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost',
    ]);
    assert.deepEqual(c.Env, ['PATH=/bin', 'A=2', 'B=two words', 'C=3', 'D=2-3']);
    assert.deepEqual(c.Labels, { a: 'b', 'c d': 'e' });
    assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
    assert.equal(c.User, 'nobody');
    assert.equal(c.WorkingDir, '/app/sub');
    assert.deepEqual(c.Volumes, { '/data': {}, '/v1': {}, '/v2': {} });
    assert.equal(c.StopSignal, 'SIGINT');
    assert.deepEqual(c.OnBuild, ['RUN echo later']);
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 5e9, Retries: 2 });
    assert.deepEqual(base.Env, ['PATH=/bin', 'A=1'], 'the input is not modified');
  });

  it('takes lowercase keywords and line continuations as the parser does', async () => {
    const c = await applyChanges(base, ['env X=1 \\', '  Y=2', 'cmd ["a"]']);
    assert.deepEqual(c.Env, ['PATH=/bin', 'A=1', 'X=1', 'Y=2']);
    assert.deepEqual(c.Cmd, ['a']);
  });

  it('refuses, in one line, what Docker refuses', async () => {
    const refused = async (changes: string[], message: RegExp) => {
      await assert.rejects(applyChanges(base, changes), (err: Error) => {
        assert.ok(err instanceof StrataError, String(err));
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    };
    await refused(['RUN echo'], /^run is not a valid change command$/);
    await refused(['CMD ["x"]', 'COPY a b'], /^copy is not a valid change command$/);
    await refused(['FROM busybox'], /^from is not a valid change command$/);
    await refused(['BOGUS x'], /^bogus is not a valid change command$/);
    await refused(['ENV'], /^invalid change: ENV requires at least one argument$/);
    await refused(['ONBUILD FROM x'], /^invalid change: FROM isn't allowed as an ONBUILD trigger$/);
    await refused(['SHELL sh -c'], /SHELL requires the arguments to be in JSON form/);
    await refused(['HEALTHCHECK --interval=soon CMD true'], /invalid duration/);
  });
});
