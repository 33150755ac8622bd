// The hash pool's worker: file content hashes (read in fixed-size chunks, so a large file is
// never held in memory) and streamed hashes fed through a MessagePort.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { HashResult, HashTask, HashStreamTask } from './types.js';

const CHUNK = 1024 * 1024;

async function hashOneFile(path: string, buf: Buffer): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

async function hashFiles(paths: string[]): Promise<string[]> {
  const buf = Buffer.allocUnsafe(CHUNK);
  const out: string[] = [];
  for (const p of paths) out.push(await hashOneFile(p, buf));
  return out;
}

function hashStream(task: HashStreamTask): Promise<string> {
  const hash = createHash('sha256');
  const { port } = task;
  return new Promise((resolve) => {
    port.on('message', (msg: ArrayBuffer | null) => {
      if (msg === null) {
        port.close();
        resolve(hash.digest('hex'));
        return;
      }
      hash.update(new Uint8Array(msg));
      port.postMessage(msg.byteLength);
    });
  });
}

export default function run(task: HashTask): Promise<HashResult> {
  if (task.kind === 'files') return hashFiles(task.paths);
  return hashStream(task);
}
