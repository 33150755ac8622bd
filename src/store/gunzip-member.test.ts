// A packed layer's gzip inflated without its crc32 check: one member, whatever its header holds;
// anything else (more members, bytes after the member, not gzip) is handed to the checked way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { tempDir } from '../testing/cli.js';
import { inflateMember, NotOneMember, withBlobContent } from './gunzip-member.js';

const data = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `line ${i % 977}\n`).join(''));

/** A member whose header has every optional field (extra, name, comment, header crc). */
function fancyMember(content: Buffer): Buffer {
  const extra = Buffer.from('AB\x04\x00wxyz', 'latin1');
  const head = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3]),
    Buffer.from([extra.length, 0]), extra, Buffer.from('name.tar\0comment\0', 'latin1'), Buffer.from([0xaa, 0xbb]),
  ]);
  const trailer = Buffer.alloc(8); // crc32 and size: not read
  return Buffer.concat([head, deflateRawSync(content), trailer]);
}

/** `b` in chunks of `n` bytes (the header split across them when n is small). */
const chunks = (b: Buffer, n: number) => (async function* () {
  for (let i = 0; i < b.length; i += n) yield b.subarray(i, i + n);
})();

async function inflated(b: Buffer, n = 5, max?: number): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of inflateMember(chunks(b, n), b.length, max)) out.push(c);
  return Buffer.concat(out);
}

test('one member is inflated, whatever optional fields its header has, in chunks of any size', async () => {
  assert.ok((await inflated(gzipSync(data))).equals(data));
  assert.ok((await inflated(fancyMember(data), 3)).equals(data));
  assert.ok((await inflated(fancyMember(data), 1 << 20)).equals(data));
});

test('more members, bytes after the member, a truncated blob or no gzip at all is not one member', async () => {
  const gz = gzipSync(data);
  await assert.rejects(inflated(Buffer.concat([gz, gzipSync(Buffer.from('more'))])), NotOneMember);
  await assert.rejects(inflated(Buffer.concat([gz, Buffer.from('junk')])), NotOneMember);
  await assert.rejects(inflated(gz.subarray(0, gz.length - 3)), NotOneMember);
  await assert.rejects(inflated(data), NotOneMember);
});

test('corrupt deflate data and a bomb fail as such', async () => {
  const gz = gzipSync(data);
  const bad = Buffer.from(gz);
  bad.fill(0xff, 20, 40);
  await assert.rejects(inflated(bad), (err: Error) => !(err instanceof NotOneMember));
  await assert.rejects(inflated(gz, 1 << 20, 1000), /archive too large/);
});

test('withBlobContent reads a blob of more members again, with every check', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'blob');
    const two = Buffer.concat([gzipSync(data.subarray(0, 1000)), gzipSync(data.subarray(1000))]);
    fs.writeFileSync(file, two);
    let calls = 0;
    const use = async (content: AsyncIterable<Buffer>) => {
      calls++;
      const out: Buffer[] = [];
      for await (const c of content) out.push(c);
      return Buffer.concat(out);
    };
    assert.ok((await withBlobContent(file, 'application/vnd.oci.image.layer.v1.tar+gzip', undefined, use)).equals(data), 'both members');
    assert.equal(calls, 2, 'read twice');
    calls = 0;
    fs.writeFileSync(file, gzipSync(data));
    assert.ok((await withBlobContent(file, 'application/vnd.docker.image.rootfs.diff.tar.gzip', undefined, use)).equals(data));
    assert.equal(calls, 1, 'one member: read once');
  } finally {
    cleanup();
  }
});
