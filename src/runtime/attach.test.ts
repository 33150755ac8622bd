import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DetachWatcher, encodeFrame, FRAME, FrameDecoder, parseDetachKeys } from './attach.js';

describe('attach protocol', () => {
  it('frames and unframes across arbitrary chunk boundaries', () => {
    const wire = Buffer.concat([encodeFrame(FRAME.stdout, 'hello'), encodeFrame(FRAME.stderr, 'oops'), encodeFrame(FRAME.exit, '3')]);
    const got: Array<[number, string]> = [];
    const d = new FrameDecoder((t, p) => got.push([t, p.toString()]));
    for (let i = 0; i < wire.length; i += 3) d.push(wire.subarray(i, i + 3));
    assert.deepEqual(got, [[1, 'hello'], [2, 'oops'], [5, '3']]);
  });

  it('parses detach keys as docker does', () => {
    assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
    assert.deepEqual([...parseDetachKeys('ctrl-@,a,ctrl-[')], [0, 97, 27]);
    assert.throws(() => parseDetachKeys('ctrl-pp'), /invalid detach keys "ctrl-pp"/);
  });

  it('detaches on the sequence and passes everything else through, in order', () => {
    const w = new DetachWatcher(Buffer.from([16, 17]));
    assert.deepEqual(w.feed(Buffer.from('ab')), { forward: Buffer.from('ab'), detach: false });
    // Ctrl-P alone is held back until the next byte says whether it starts the sequence.
    assert.deepEqual(w.feed(Buffer.from([16])), { forward: Buffer.alloc(0), detach: false });
    assert.deepEqual(w.feed(Buffer.from('x')), { forward: Buffer.from([16, 120]), detach: false });
    assert.deepEqual(w.feed(Buffer.from([99, 16, 16, 17])), { forward: Buffer.from([99, 16]), detach: true });
  });
});
