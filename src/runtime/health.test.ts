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

  it("merges the flags over the image's check as moby's daemon, and refuses what Docker refuses", () => {
    const image = { Test: ['CMD', 'true'], Interval: 5e9, Retries: 4 };
    assert.equal(healthConfigWith(image, {}), image);
    assert.deepEqual(healthConfigWith(image, { interval: '1m30s' }), { Test: ['CMD', 'true'], Interval: 90e9, Retries: 4 });
    assert.deepEqual(healthConfigWith(undefined, { cmd: 'test -f /ok', retries: '2' }), { Test: ['CMD-SHELL', 'test -f /ok'], Retries: 2 });
    // A zero (or an empty --health-cmd) is "not set": the image's value stays.
    assert.equal(healthConfigWith(image, { interval: '0', timeout: '0s', startPeriod: '0ms', startInterval: '0', retries: '0', cmd: '' }), image);
    assert.deepEqual(healthConfigWith(image, { interval: '0s', timeout: '2s', retries: '0' }), { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 4 });
    // --no-healthcheck: Test NONE, the rest from the image (moby merges it like any other).
    assert.deepEqual(healthConfigWith(image, { none: true }), { Test: ['NONE'], Interval: 5e9, Retries: 4 });
    assert.deepEqual(healthConfigWith(image, { none: true, interval: '0s' }), { Test: ['NONE'], Interval: 5e9, Retries: 4 });
    // Without an image check and without --health-cmd, the settings stand alone (nothing is probed).
    assert.deepEqual(healthConfigWith(undefined, { interval: '1s' }), { Interval: 1e9 });
    assert.equal(healthPlan(healthConfigWith(undefined, { interval: '1s' })), undefined);
    assert.throws(() => healthConfigWith(image, { none: true, cmd: 'x' }), /--no-healthcheck conflicts with --health-\* options/);
    for (const [flags, message] of [
      [{ interval: 'often' }, 'invalid argument "often" for "--health-interval" flag: time: invalid duration "often"'],
      [{ interval: '--1s' }, 'invalid argument "--1s" for "--health-interval" flag: time: invalid duration "--1s"'],
      [{ timeout: '5' }, 'invalid argument "5" for "--health-timeout" flag: time: missing unit in duration "5"'],
      [{ timeout: '5sec' }, 'invalid argument "5sec" for "--health-timeout" flag: time: unknown unit "sec" in duration "5sec"'],
      [{ retries: 'x' }, 'invalid argument "x" for "--health-retries" flag: strconv.ParseInt: parsing "x": invalid syntax'],
      [{ timeout: '-1s', interval: '-1s' }, '--health-interval cannot be negative'],
      [{ timeout: '-1s' }, '--health-timeout cannot be negative'],
      [{ retries: '-1', startPeriod: '-1s' }, '--health-retries cannot be negative'],
      [{ startPeriod: '-1s' }, '--health-start-period cannot be negative'],
      [{ startInterval: '-5ms' }, '--health-start-interval cannot be negative'],
      [{ interval: '500us' }, 'Interval in Healthcheck cannot be less than 1ms'],
      [{ startInterval: '999999ns' }, 'StartInterval in Healthcheck cannot be less than 1ms'],
    ] as const) {
      assert.throws(() => healthConfigWith(image, flags), (e: Error) => e.message === message, message);
    }
  });

  it("keeps the timeout's Go text for the message of a probe killed at it (time.Duration's String, not rounded to ms)", () => {
    assert.deepEqual([100.5e6, 30e9, 1.5e9, 90e9, 3600e9].map((Timeout) => healthPlan({ Test: ['CMD', 'x'], Timeout })!.timeoutText), ['100.5ms', '30s', '1.5s', '1m30s', '1h0m0s']);
  });
});
