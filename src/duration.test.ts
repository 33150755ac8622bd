import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration, parseGoDuration } from './duration.js';

test("formatDuration is Go's time.Duration.String", () => {
  const cases: [number, string][] = [
    [0, '0s'], [1, '1ns'], [999, '999ns'], [1_500, '1.5µs'], [1_000_000, '1ms'], [500_000_000, '500ms'], [1_234_567, '1.234567ms'],
    [1e9, '1s'], [1.5e9, '1.5s'], [90e9, '1m30s'], [3600e9, '1h0m0s'], [3600.5e9, '1h0m0.5s'], [-2e9, '-2s'], [100 * 3600e9 + 1, '100h0m0.000000001s'],
  ];
  for (const [ns, text] of cases) assert.equal(formatDuration(ns), text, String(ns));
  for (const text of ['2s', '1m30s', '500ms', '1h0m0.5s']) assert.equal(formatDuration(parseDuration(text, 'x')!), text);
});

test("parseGoDuration is Go's time.ParseDuration, its errors in its words", () => {
  assert.deepEqual(['0', '-1s', '+2ms', '1h2m', '1.5us'].map(parseGoDuration), [0, -1e9, 2e6, 3720e9, 1500]);
  // Microseconds with the micro sign (U+00B5) and with the Greek mu (U+03BC), as Go takes both.
  assert.deepEqual(['1.5\u00b5s', '2\u03bcs', '1ms5\u03bcs'].map(parseGoDuration), [1500, 2000, 1_005_000]);
  for (const [text, message] of [
    ['', 'time: invalid duration ""'], ['soon', 'time: invalid duration "soon"'], ['--1s', 'time: invalid duration "--1s"'],
    ['5', 'time: missing unit in duration "5"'], ['1s2', 'time: missing unit in duration "1s2"'], ['5sec', 'time: unknown unit "sec" in duration "5sec"'],
  ]) {
    assert.throws(() => parseGoDuration(text!), (e: Error) => e.message === message, message);
  }
});
