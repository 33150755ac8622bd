// The header-only scanner sees the entries readTar sees (GNU long names, PAX records, the ustar
// prefix), whatever the chunking, and refuses a truncated or corrupt tar.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../testing/cli.js';
import { readTar } from './reader.js';
import { TarScanner, type ScannedEntry } from './scan.js';

function scan(tar: Buffer, chunk: number): ScannedEntry[] {
  const out: ScannedEntry[] = [];
  const s = new TarScanner((e) => out.push(e));
  for (let off = 0; off < tar.length; off += chunk) s.push(tar.subarray(off, off + chunk));
  s.end();
  return out;
}

async function read(tar: Buffer): Promise<ScannedEntry[]> {
  const out: ScannedEntry[] = [];
  for await (const e of readTar([tar])) out.push({ path: e.path, type: e.type, linkpath: e.linkpath });
  return out;
}

test('the scanner names what readTar names, in gnu, pax and ustar tars, at any chunk size', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(70)}`;
    fs.mkdirSync(path.join(dir, 'src', long), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', long, 'file'), 'x'.repeat(1000));
    fs.writeFileSync(path.join(dir, 'src', 'small'), 'y');
    fs.symlinkSync(`./${long.slice(0, 90)}`, path.join(dir, 'src', 'link'));
    fs.linkSync(path.join(dir, 'src', 'small'), path.join(dir, 'src', 'hard'));
    for (const format of ['gnu', 'pax', 'ustar']) {
      const tar = execFileSync('tar', ['-C', path.join(dir, 'src'), `--format=${format}`, '-cf', '-', '.'], { maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'ignore'] });
      const want = await read(tar);
      assert.ok(want.some((e) => e.path.includes('f'.repeat(70))), format);
      for (const chunk of [1, 7, 512, 513, 100_000]) assert.deepEqual(scan(tar, chunk), want, `${format}, chunks of ${chunk}`);
      assert.throws(() => scan(tar.subarray(0, 1500), 512), /truncated/, format);
      const bad = Buffer.from(tar);
      bad[10] ^= 1;
      assert.throws(() => scan(bad, 512), /checksum/, format);
    }
  } finally {
    cleanup();
  }
});
