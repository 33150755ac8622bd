import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { tempDir } from '../testing/cli.js';
import { logLimits, parseLogConfig } from './log-config.js';
import { JsonLogWriter, parseRfc3339, parseSince, readLogs, rfc3339Nano, type LogStream } from './logs.js';

async function collect(file: string, options: Parameters<typeof readLogs>[1]) {
  const out: Array<[LogStream, string]> = [];
  await readLogs(file, options, (s, t) => out.push([s, t]));
  return out;
}

/**
 * Follows FILE while W writes: "start", then PERLOOK lines at each of the follower's first LOOKS
 * looks (two more looks after that). The texts read and the lines written, W closed.
 */
async function followWhileWriting(file: string, w: JsonLogWriter, looks: number, perLook: number): Promise<{ read: string[]; written: string[] }> {
  const written = ['start\n'];
  w.write('stdout', written[0]!);
  let look = 0;
  const out = await collect(file, {
    pollMs: 5,
    follow: () => {
      look++;
      for (let i = 0; look <= looks && i < perLook; i++) {
        written.push(`p${look}-${i}\n`);
        w.write('stdout', written[written.length - 1]!);
      }
      return look < looks + 2;
    },
  });
  w.close();
  return { read: out.map(([, t]) => t), written };
}

/**
 * LINES are `line-K\n` for consecutive K up to END − 1, from whichever came first (rotations drop
 * the oldest); returns that first K.
 */
function assertNewestInOrder(lines: string[], end: number): number {
  const first = Number(/line-(\d+)/.exec(lines[0]!)![1]);
  assert.deepEqual(lines, Array.from({ length: end - first }, (_, i) => `line-${first + i}\n`));
  return first;
}

describe('json-file logs', () => {
  it('writes one JSON entry per line in docker shape, splitting and joining chunks', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'c-json.log');
      const w = new JsonLogWriter(file);
      w.write('stdout', 'hel');
      w.write('stdout', 'lo\nwor');
      w.write('stderr', 'oops\n');
      w.write('stdout', 'ld\nlast');
      w.close();
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => [l.stream, l.log]), [['stdout', 'hello\n'], ['stderr', 'oops\n'], ['stdout', 'world\n'], ['stdout', 'last']]);
      assert.deepEqual(Object.keys(lines[0]), ['log', 'stream', 'time']);
      assert.match(lines[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      assert.deepEqual(await collect(file, { tail: 2 }), [['stdout', 'world\n'], ['stdout', 'last']]);
      assert.deepEqual(await collect(file, { tail: 0 }), []);
      const ts = await collect(file, { tail: 1, timestamps: true });
      assert.match(ts[0]![1], /^\d{4}-.*Z last$/);
    } finally {
      cleanup();
    }
  });

  it('filters by --since and skips a torn last line', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'c-json.log');
      const entry = (log: string, time: string) => `${JSON.stringify({ log, stream: 'stdout', time })}\n`;
      fs.writeFileSync(file, entry('old\n', '2020-01-01T00:00:00.000000001Z') + entry('new\n', '2030-01-01T00:00:00Z') + '{"log":"torn');
      assert.deepEqual(await collect(file, { sinceNs: parseSince('2025-06-01T00:00:00Z') }), [['stdout', 'new\n']]);
      assert.deepEqual(await collect(file, { sinceNs: parseSince('1577836800') }), [['stdout', 'old\n'], ['stdout', 'new\n']]);
      assert.deepEqual(await collect(file, { sinceNs: parseSince('1577836800.5') }), [['stdout', 'new\n']]);
    } finally {
      cleanup();
    }
  });

  it('parses times and durations', () => {
    const now = 10_000_000_000_000n;
    assert.equal(parseSince('1h30m', now), now - 5_400_000_000_000n);
    assert.equal(parseSince('1.5s', now), now - 1_500_000_000n);
    // Go's microseconds: the micro sign (U+00B5) and the Greek mu (U+03BC).
    assert.equal(parseSince('3\u00b5s', now), now - 3_000n);
    assert.equal(parseSince('1s4\u03bcs', now), now - 1_000_004_000n);
    assert.equal(parseRfc3339('1970-01-01T00:00:01.5+00:00'), 1_500_000_000n);
    assert.equal(rfc3339Nano(1_500_000_001n), '1970-01-01T00:00:01.500000001Z');
    assert.throws(() => parseSince('yesterday'), /invalid value for "since": "yesterday"/);
    assert.throws(() => parseSince('2024-13-01', now, 'until'), /invalid value for "until": "2024-13-01"/);
  });

  it('reads the timestamp forms Docker does: date only, hour and minutes, zones, local time', () => {
    const utc = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
    assert.equal(parseSince('2024-01-02Z'), utc('2024-01-02T00:00:00Z'));
    assert.equal(parseSince('2024-01-02T03:04+01:00'), utc('2024-01-02T02:04:00Z'));
    assert.equal(parseSince('2024-01-02T03:04:05.25Z'), utc('2024-01-02T03:04:05Z') + 250_000_000n);
    assert.equal(parseSince('2024-01-02T03:04:05-02:30'), utc('2024-01-02T05:34:05Z'));
    // without a zone, local time, as Go's ParseInLocation(time.Local)
    assert.equal(parseSince('2024-01-02'), BigInt(new Date(2024, 0, 2).getTime()) * 1_000_000n);
    assert.equal(parseSince('2024-01-02T03'), BigInt(new Date(2024, 0, 2, 3).getTime()) * 1_000_000n);
    assert.equal(parseSince('2024-01-02T03:04:05'), BigInt(new Date(2024, 0, 2, 3, 4, 5).getTime()) * 1_000_000n);
  });

  it('follows new entries until the container stops', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'c-json.log');
      const w = new JsonLogWriter(file);
      w.write('stdout', 'one\n');
      let polls = 0;
      const out = await collect(file, {
        pollMs: 5,
        follow: () => {
          polls++;
          if (polls === 2) w.write('stdout', 'two\n');
          if (polls === 3) w.write('stderr', 'three\n');
          return polls < 3;
        },
      });
      w.close();
      assert.deepEqual(out, [['stdout', 'one\n'], ['stdout', 'two\n'], ['stderr', 'three\n']]);
    } finally {
      cleanup();
    }
  });

  it('rotates at max-size keeping max-file files (oldest dropped), and reads them back in order', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'c-json.log');
      const w = new JsonLogWriter(file, { maxSize: 400, maxFiles: 3 });
      for (let i = 0; i < 40; i++) w.write('stdout', `line-${i}\n`);
      w.close();
      assert.ok(fs.existsSync(`${file}.1`) && fs.existsSync(`${file}.2`) && !fs.existsSync(`${file}.3`));
      for (const f of [file, `${file}.1`, `${file}.2`]) assert.ok(fs.statSync(f).size <= 400, f);
      const lines = (await collect(file, {})).map(([, t]) => t);
      // The newest lines, in order, without a gap: what the three files hold.
      const first = assertNewestInOrder(lines, 40);
      assert.ok(first > 0, 'the oldest lines were dropped');
      assert.deepEqual((await collect(file, { tail: 2 })).map(([, t]) => t), ['line-38\n', 'line-39\n']);
    } finally {
      cleanup();
    }
  });

  it('with compress, gzips each rotated file (FILE.1.gz ...), a FILE.1 left uncompressed too, and reads them back in order', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'c-json.log');
      const w = new JsonLogWriter(file, { maxSize: 400, maxFiles: 3, compress: true });
      for (let i = 0; i < 40; i++) w.write('stdout', `line-${i}\n`);
      await w.compressed();
      assert.deepEqual(fs.readdirSync(dir).sort(), ['c-json.log', 'c-json.log.1.gz', 'c-json.log.2.gz']);
      for (const f of [`${file}.1.gz`, `${file}.2.gz`]) assert.deepEqual([...fs.readFileSync(f).subarray(0, 2)], [0x1f, 0x8b], `${f} is gzip`);
      // Killed between the rename and the gzip: FILE.1 is read as it is, and compressed at the next rotation.
      fs.renameSync(`${file}.1.gz`, `${file}.1.keep`);
      fs.writeFileSync(`${file}.1`, zlib.gunzipSync(fs.readFileSync(`${file}.1.keep`)));
      fs.rmSync(`${file}.1.keep`);
      const lines = (await collect(file, {})).map(([, t]) => t);
      assert.ok(assertNewestInOrder(lines, 40) > 0, 'the oldest lines were dropped');
      for (let i = 40; i < 50; i++) w.write('stdout', `line-${i}\n`);
      w.close();
      assert.deepEqual(fs.readdirSync(dir).sort(), ['c-json.log', 'c-json.log.1.gz', 'c-json.log.2.gz']);
      assertNewestInOrder((await collect(file, {})).map(([, t]) => t), 50);
    } finally {
      cleanup();
    }
  });

  it('gzips a rotated file off the write path; a rotation before it is done loses no line, and close finishes it', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'c-json.log');
      const w = new JsonLogWriter(file, { maxSize: 400, maxFiles: 4, compress: true });
      let n = 0;
      const rotateOnce = () => {
        const before = fs.existsSync(`${file}.1`) || fs.existsSync(`${file}.1.gz`) ? fs.statSync(file).ino : undefined;
        while (fs.statSync(file).ino === before || !(fs.existsSync(`${file}.1`) || fs.existsSync(`${file}.1.gz`))) w.write('stdout', `line-${n++}\n`);
      };
      rotateOnce();
      // The write that rotated returned with FILE.1 still plain: its gzip is under way.
      assert.ok(fs.existsSync(`${file}.1`) && !fs.existsSync(`${file}.1.gz`), 'FILE.1 is gzipped after the write, not in it');
      await w.compressed();
      assert.deepEqual(fs.readdirSync(dir).sort(), ['c-json.log', 'c-json.log.1.gz']);
      // Two rotations in a row: the second comes while the first one's gzip is under way.
      rotateOnce();
      rotateOnce();
      assert.ok(fs.existsSync(`${file}.1`), 'the last rotated file waits for its gzip');
      w.write('stdout', `line-${n++}\n`);
      w.close();
      assert.deepEqual(fs.readdirSync(dir).sort(), ['c-json.log', 'c-json.log.1.gz', 'c-json.log.2.gz', 'c-json.log.3.gz']);
      assertNewestInOrder((await collect(file, {})).map(([, t]) => t), n);
      await w.compressed();
      assert.deepEqual(fs.readdirSync(dir).sort(), ['c-json.log', 'c-json.log.1.gz', 'c-json.log.2.gz', 'c-json.log.3.gz'], 'a cancelled gzip places nothing');
    } finally {
      cleanup();
    }
  });

  for (const compress of [false, true]) {
    it(`a follower reads the files rotated${compress ? ' (and gzipped)' : ''} in between when the log rotated more than once since its last look`, async () => {
      const { dir, cleanup } = tempDir();
      try {
        const file = path.join(dir, 'c-json.log');
        // Some 75 bytes an entry: four a file, so eight lines between two looks rotate it twice.
        const writer = new JsonLogWriter(file, { maxSize: 300, maxFiles: 5, compress });
        const { read, written } = await followWhileWriting(file, writer, 4, 8);
        await writer.compressed();
        if (compress) assert.ok(fs.existsSync(`${file}.2.gz`) && !fs.existsSync(`${file}.1`), 'rotated into .gz files');
        assert.deepEqual(read, written);
      } finally {
        cleanup();
      }
    });
  }

  it('with one file, empties it instead; a follower goes on across a rotation', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const one = path.join(dir, 'one-json.log');
      const w1 = new JsonLogWriter(one, { maxSize: 200, maxFiles: 1 });
      for (let i = 0; i < 20; i++) w1.write('stdout', `n${i}\n`);
      w1.close();
      assert.ok(fs.statSync(one).size <= 200 && !fs.existsSync(`${one}.1`));
      const file = path.join(dir, 'c-json.log');
      const { read, written } = await followWhileWriting(file, new JsonLogWriter(file, { maxSize: 300, maxFiles: 2 }), 10, 3);
      // Every line written while following arrived once, in order, though the file rotated under the reader.
      assert.ok(fs.existsSync(`${file}.1`), 'the file rotated');
      assert.deepEqual(read, written);
    } finally {
      cleanup();
    }
  });

  it("checks --log-driver and --log-opt as Docker's drivers do", () => {
    assert.deepEqual(parseLogConfig(undefined, []), { Type: 'json-file', Config: {} });
    assert.deepEqual(parseLogConfig('json-file', ['max-size=10m', 'max-file=3']), { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    assert.deepEqual(parseLogConfig('none', []), { Type: 'none', Config: {} });
    assert.throws(() => parseLogConfig('syslog', []), /logging driver "syslog" is not supported/);
    assert.throws(() => parseLogConfig('json-file', ['bogus=x']), /unknown log opt 'bogus' for json-file log driver/);
    // json-file's attributes (what `logs --details` shows); Docker's local driver has none.
    assert.deepEqual(parseLogConfig('json-file', ['tag=x', 'labels=a', 'env-regex=^A']).Config, { tag: 'x', labels: 'a', 'env-regex': '^A' });
    assert.throws(() => parseLogConfig('local', ['tag=x']), /unknown log opt 'tag' for local log driver/);
    assert.throws(() => parseLogConfig('json-file', ['labels-regex=(']), /invalid value for log opt 'labels-regex': "\(" is not a regular expression/);
    // As Docker's: max-file alone is taken (nothing rotates without max-size); max-size in decimal units, as go-units' FromHumanSize.
    assert.deepEqual(logLimits(parseLogConfig('json-file', ['max-file=3'])), { maxSize: undefined, maxFiles: 3 });
    assert.deepEqual(['2k', '10m', '1.5MB', '1g'].map((v) => logLimits(parseLogConfig('json-file', [`max-size=${v}`]))!.maxSize), [2000, 10_000_000, 1_500_000, 1e9]);
    // Bad values in the words of moby's json-file driver (go-units, strconv, jsonfilelog.New).
    assert.deepEqual(logLimits(parseLogConfig('json-file', ['max-size=1k', 'max-file=2', 'compress=true'])), { maxSize: 1000, maxFiles: 2, compress: true });
    assert.deepEqual(logLimits(parseLogConfig('json-file', ['compress=false'])), { maxSize: undefined, maxFiles: 1 });
    for (const [opts, message] of [
      [['max-size=lots'], "invalid size: 'lots'"],
      [['max-size=0'], 'max-size must be a positive number'],
      [['max-size=1m', 'max-file=x'], 'strconv.Atoi: parsing "x": invalid syntax'],
      [['max-size=1m', 'max-file=0'], 'max-file cannot be less than 1'],
      [['max-size=1m', 'max-file=2', 'compress=yes'], 'strconv.ParseBool: parsing "yes": invalid syntax'],
      [['max-size=1m', 'compress=true'], 'compress cannot be true when max-file is less than 2 or max-size is not set'],
      [['max-file=3', 'compress=1'], 'compress cannot be true when max-file is less than 2 or max-size is not set'],
      [['max-size=1m', 'max-file=2', 'compress=true', 'gzip=1'], "unknown log opt 'gzip' for json-file log driver"],
    ] as const) {
      assert.throws(() => parseLogConfig('json-file', [...opts]), (e: Error) => e.message === message, message);
    }
    // Docker's local driver: 5 files of 20 MB, the rotated ones compressed unless compress=false.
    assert.deepEqual(logLimits(parseLogConfig('local', [])), { maxSize: 20 * 1024 ** 2, maxFiles: 5, compress: true });
    assert.deepEqual(logLimits(parseLogConfig('local', ['compress=false', 'max-file=1'])), { maxSize: 20 * 1024 ** 2, maxFiles: 1 });
    assert.deepEqual(logLimits(parseLogConfig('local', ['max-size=1k', 'max-file=2'])), { maxSize: 1000, maxFiles: 2, compress: true });
    assert.throws(() => parseLogConfig('local', ['max-file=1']), (e: Error) => e.message === 'compression cannot be enabled when max file count is 1');
    assert.throws(() => parseLogConfig('local', ['compress=maybe']), (e: Error) => e.message === 'strconv.ParseBool: parsing "maybe": invalid syntax');
  });
});
