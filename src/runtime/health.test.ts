import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { afterProbe, healthConfigWith, healthPlan, startingHealth, type HealthLogEntry } from './health.js';

const probe = (ExitCode: number, n = 0): HealthLogEntry => ({ Start: `s${n}`, End: `e${n}`, ExitCode, Output: '' });

describe('health checks (Docker rules)', () => {
  it('plans CMD-SHELL through /bin/sh, CMD as is, NONE as no check, with Docker\'s defaults', () => {
    assert.deepEqual(healthPlan({ Test: ['CMD-SHELL', 'curl -f localhost || exit 1'] }), {
      command: ['/bin/sh', '-c', 'curl -f localhost || exit 1'], intervalMs: 30_000, timeoutMs: 30_000, timeoutText: '30s', startPeriodMs: 0, startIntervalMs: 5_000, retries: 3,
    });
    assert.deepEqual(healthPlan({ Test: ['CMD', 'true'], Interval: 2e9, Retries: 5 })?.command, ['true']);
    assert.equal(healthPlan({ Test: ['CMD', 'true'], Interval: 2e9 })?.intervalMs, 2000);
    assert.equal(healthPlan({ Test: ['NONE'] }), undefined);
    assert.equal(healthPlan(undefined), undefined);
  });

  it('moves starting → healthy on a success, → unhealthy after Retries failures in a row, and keeps five probes', () => {
    const plan = healthPlan({ Test: ['CMD', 'x'], Retries: 2 })!;
    let h = startingHealth();
    h = afterProbe(h, probe(1, 1), plan, 1000);
    assert.deepEqual([h.Status, h.FailingStreak], ['starting', 1]);
    h = afterProbe(h, probe(1, 2), plan, 2000);
    assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
    h = afterProbe(h, probe(0, 3), plan, 3000);
    assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
    for (let i = 4; i < 10; i++) h = afterProbe(h, probe(1, i), plan, i * 1000);
    assert.equal(h.Status, 'unhealthy');
    assert.deepEqual(h.Log.map((e) => e.Start), ['s5', 's6', 's7', 's8', 's9']);
  });

  it('does not count failures within the start period while starting', () => {
    const plan = healthPlan({ Test: ['CMD', 'x'], Retries: 1, StartPeriod: 10e9 })!;
    const h = afterProbe(startingHealth(), probe(1), plan, 5000);
    assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ['starting', 0, 1]);
    assert.equal(afterProbe(startingHealth(), probe(1), plan, 11_000).Status, 'unhealthy');
  });

  it('merges the flags over the image\'s check, and refuses what Docker refuses', () => {
    const image = { Test: ['CMD', 'true'], Interval: 5e9, Retries: 4 };
    assert.equal(healthConfigWith(image, {}), image);
    assert.deepEqual(healthConfigWith(image, { interval: '1m30s' }), { Test: ['CMD', 'true'], Interval: 90e9, Retries: 4 });
    assert.deepEqual(healthConfigWith(undefined, { cmd: 'test -f /ok', retries: '2' }), { Test: ['CMD-SHELL', 'test -f /ok'], Retries: 2 });
    assert.deepEqual(healthConfigWith(image, { none: true }), { Test: ['NONE'] });
    assert.throws(() => healthConfigWith(image, { none: true, cmd: 'x' }), /--no-healthcheck conflicts with --health-\* options/);
    assert.throws(() => healthConfigWith(image, { interval: 'often' }), /invalid argument "often" for "--health-interval" flag/);
    assert.throws(() => healthConfigWith(image, { timeout: '-1s' }), /^StrataError: --health-timeout cannot be negative$/);
    assert.throws(() => healthConfigWith(image, { interval: '--1s' }), /invalid argument "--1s" for "--health-interval" flag/);
    assert.throws(() => healthConfigWith(undefined, { interval: '1s' }), /need a health check/);
  });

  it("keeps the timeout's Go text for the message of a probe killed at it (time.Duration's String, not rounded to ms)", () => {
    assert.deepEqual([100.5e6, 30e9, 1.5e9, 90e9, 3600e9].map((Timeout) => healthPlan({ Test: ['CMD', 'x'], Timeout })!.timeoutText), ['100.5ms', '30s', '1.5s', '1m30s', '1h0m0s']);
  });
});
