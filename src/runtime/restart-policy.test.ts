import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerRecord } from '../store/index.js';
import { parseRestart, restartPolicyOf } from './restart-policy.js';

const record = (hostConfig: Record<string, unknown>, strata: Record<string, unknown> = {}) =>
  ({ HostConfig: hostConfig, Strata: { layers: [], ...strata } }) as unknown as ContainerRecord;

describe('restartPolicyOf', () => {
  it('reads HostConfig.RestartPolicy, the one policy strata writes', () => {
    assert.deepEqual(restartPolicyOf(record({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } })), { name: 'on-failure', maximumRetryCount: 3 });
    assert.deepEqual(restartPolicyOf(record({ RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } })), { name: 'always', maximumRetryCount: 0 });
    // Docker's "" is no policy.
    assert.deepEqual(restartPolicyOf(record({ RestartPolicy: { Name: '', MaximumRetryCount: 0 } })), { name: 'no', maximumRetryCount: 0 });
  });

  it("an earlier version's text is read only when HostConfig.RestartPolicy is missing", () => {
    assert.deepEqual(restartPolicyOf(record({}, { restart: 'on-failure:2' })), { name: 'on-failure', maximumRetryCount: 2 });
    assert.deepEqual(restartPolicyOf(record({}, {})), { name: 'no', maximumRetryCount: 0 });
    // Both kept (an earlier `update --restart`, or a text left stale): HostConfig's wins.
    assert.deepEqual(restartPolicyOf(record({ RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } }, { restart: 'always' })), { name: 'no', maximumRetryCount: 0 });
  });

  it('a policy strata could not have written is no policy, never a guess', () => {
    assert.deepEqual(restartPolicyOf(record({ RestartPolicy: { Name: 'sometimes', MaximumRetryCount: 0 } })), { name: 'no', maximumRetryCount: 0 });
    assert.deepEqual(restartPolicyOf(record({}, { restart: 'on-failure:x' })), { name: 'no', maximumRetryCount: 0 });
    assert.deepEqual(restartPolicyOf(record({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } })), { name: 'on-failure', maximumRetryCount: 0 });
    assert.deepEqual(restartPolicyOf(record({ RestartPolicy: { Name: 'always', MaximumRetryCount: 5 } })), { name: 'always', maximumRetryCount: 0 });
  });
});

describe('parseRestart', () => {
  it("takes Docker's forms and refuses others with Docker's message", () => {
    assert.deepEqual(parseRestart('on-failure:4'), { name: 'on-failure', maximumRetryCount: 4 });
    assert.deepEqual(parseRestart('unless-stopped'), { name: 'unless-stopped', maximumRetryCount: 0 });
    assert.throws(() => parseRestart('never'), /invalid restart policy "never"/);
    assert.throws(() => parseRestart('always:2'), /maximum retry count cannot be used with restart policy "always"/);
  });
});
