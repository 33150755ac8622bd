import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { JsonReporter, PlainReporter, TailBuffer, type Reporter } from './progress.js';
import { TtyReporter } from './progress-tty.js';

function capture(make: (out: NodeJS.WritableStream) => Reporter): { r: Reporter; text: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { r: make(out), text: () => Buffer.concat(chunks).toString('utf8') };
}

const step = { id: 2, label: '[build 2/3]', display: 'RUN make', stage: 'build' };

function drive(r: Reporter) {
  r.stepStart(step, 'parent step changed');
  r.stepOutput(step, 'compiling a\ncompil');
  r.stepOutput(step, 'ing b\n');
  r.stepDone(step, { cached: false, seconds: 1.25, missReason: 'parent step changed' });
  r.stepStart({ ...step, id: 3, display: 'COPY . /' });
  r.stepDone({ ...step, id: 3, display: 'COPY . /' }, { cached: true, seconds: 0 });
  r.info('1 steps, 1 cached, 1 built in 1.3s');
  r.close();
}

describe('progress', () => {
  it('plain: one line per event, output lines prefixed with the step', () => {
    const { r, text } = capture((o) => new PlainReporter(o));
    drive(r);
    const lines = text().split('\n');
    assert.equal(lines[0], '#2 [build 2/3] RUN make');
    assert.equal(lines[1], '#2 cache miss: parent step changed');
    assert.match(lines[2], /^#2 \d+\.\d{3} compiling a$/);
    assert.match(lines[3], /^#2 \d+\.\d{3} compiling b$/);
    assert.equal(lines[4], '#2 DONE 1.3s');
    assert.equal(lines[5], '#3 [build 2/3] COPY . /');
    assert.equal(lines[6], '#3 CACHED');
    assert.equal(lines[7], '1 steps, 1 cached, 1 built in 1.3s');
  });

  it('json: one parseable object per line', () => {
    const { r, text } = capture((o) => new JsonReporter(o));
    drive(r);
    const events = text().trim().split('\n').map((l) => JSON.parse(l) as { type: string; cached?: boolean });
    assert.deepEqual(events.map((e) => e.type), ['step-start', 'step-output', 'step-output', 'step-done', 'step-start', 'step-done', 'info']);
    assert.equal(events[5].cached, true);
  });

  it('tty: running steps redrawn in place, finished ones printed once', () => {
    const { r, text } = capture((o) => new TtyReporter(o));
    r.hashing(5, 10);
    drive(r);
    const t = text();
    assert.match(t, /hashing context \[#+\.+\] 5\/10/);
    assert.match(t, /=> \[build 2\/3\] RUN make +\d+\.\ds/);
    assert.match(t, /\x1b\[\d+A\x1b\[J/, 'redraws with cursor moves');
    assert.match(t, /=> \[build 2\/3\] RUN make 1\.3s {2}\(parent step changed\)/);
    assert.match(t, /=> CACHED \[build 2\/3\] COPY \. \//);
  });

  it('keeps the last lines of output for error reports', () => {
    const tail = new TailBuffer(2);
    tail.push('a\nb\nc');
    tail.push('d\n');
    assert.deepEqual(tail.tail(), ['b', 'cd']);
  });
});
