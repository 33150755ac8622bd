// The selection memo: for a COPY's selection of context entries, its signature (every path, type,
// mode, link target and, for files, the stat the stat cache trusts: size, mtime, ctime, inode)
// mapped to the digest of its file table. A warm build whose selection signs the same as last
// time takes the digest from here, and neither reads the stat cache (20,000 rows of JSON for a
// large context) nor looks up a hash: it trusts exactly what the stat cache trusts, all at once.
// Kept beside the stat cache, a few entries per context; losing it costs one stat-cache pass.
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { atomicWrite } from '../store/index.js';

/** How many signatures a context keeps (one per COPY of it, and a few older ones). */
const KEEP = 32;

type Row = [signature: string, digest: string];

export class SelectionMemo {
  private rows?: Row[];
  private dirty = false;

  /** `file` undefined: nothing is remembered. */
  constructor(private readonly file: string | undefined) {}

  lookup(signature: string): string | undefined {
    return this.load().find((r) => r[0] === signature)?.[1];
  }

  remember(signature: string, digest: string): void {
    if (!this.file) return;
    const rows = this.load().filter((r) => r[0] !== signature);
    this.rows = [[signature, digest] as Row, ...rows].slice(0, KEEP);
    this.dirty = true;
  }

  /** Writes the memo back (atomically, not durably) if something was remembered. */
  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await atomicWrite(this.file, JSON.stringify({ version: 1, rows: this.rows }), { durable: false, failpoint: 'context.selection-memo' });
    this.dirty = false;
  }

  private load(): Row[] {
    if (this.rows) return this.rows;
    this.rows = [];
    if (!this.file) return this.rows;
    try {
      const data = JSON.parse(fsSync.readFileSync(this.file, 'utf8')) as { version?: number; rows?: unknown };
      if (data.version === 1 && Array.isArray(data.rows)) {
        this.rows = data.rows.filter((r): r is Row => Array.isArray(r) && r.length === 2 && typeof r[0] === 'string' && typeof r[1] === 'string');
      }
    } catch {
      // missing or damaged: every selection goes through the stat cache
    }
    return this.rows;
  }
}

/** The memo file beside a context's stat cache file. */
export function memoFileFor(statCacheFile: string): string {
  return statCacheFile.replace(/\.json$/, '') + '.selections.json';
}

const TYPE_CODE = { file: 1, dir: 2, symlink: 3 } as const;

/** What a signature reads of a context entry (context.ts's ContextEntry). */
export interface SignedEntry {
  type: keyof typeof TYPE_CODE;
  mode: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  linkTarget?: string;
}

/**
 * The signature of entries selected in this order under these table keys: sha256 of the keys,
 * the link targets, and per entry its type, mode, size, mtime, ctime and inode as doubles (no
 * number is formatted as text). A file's content is in it the way the stat cache trusts it.
 */
export function selectionSignature(keys: readonly string[], entries: readonly SignedEntry[]): string {
  const nums = new Float64Array(entries.length * 6);
  const links: string[] = [];
  for (let i = 0, j = 0; i < entries.length; i++, j += 6) {
    const e = entries[i];
    nums[j] = TYPE_CODE[e.type];
    nums[j + 1] = e.mode;
    nums[j + 2] = e.size;
    nums[j + 3] = e.mtimeMs;
    nums[j + 4] = e.ctimeMs;
    nums[j + 5] = e.ino;
    if (e.type === 'symlink') links.push(`${i}\0${e.linkTarget}`);
  }
  return createHash('sha256')
    .update(`selection v1\0${keys.length}\0`)
    .update(keys.join('\0'))
    .update('\0\0')
    .update(links.join('\0'))
    .update('\0\0')
    .update(new Uint8Array(nums.buffer))
    .digest('hex');
}
