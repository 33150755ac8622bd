// Extended attributes and device nodes, which Node cannot make: one getfattr/setfattr (Debian
// package "attr") or mknod process per layer, not per file.
import fs from 'node:fs/promises';
import { runFile as run } from '../run-file.js';
import { StrataError } from '../errors.js';
import { tempName } from './fsutil.js';


function unescapeName(s: string): string {
  // getfattr quotes unusual bytes as \ooo; rebuild the byte string, then decode it as UTF-8.
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = s[i] === '\\' ? /^[0-7]{3}/.exec(s.slice(i + 1)) : null;
    if (m) {
      bytes.push(Number.parseInt(m[0], 8));
      i += 3;
    } else {
      for (const b of Buffer.from(s[i], 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function escapeName(p: string): string {
  let out = '';
  for (const b of Buffer.from(p, 'utf8')) {
    if (b <= 0x20 || b >= 0x7f || b === 0x5c || b === 0x3d) out += `\\${b.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

function missingTool(err: unknown, tool: string): never {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new StrataError(`"${tool}" not found: install the Debian package "attr" (strata setup does)`);
  }
  throw err;
}

/**
 * Every xattr under `dir`, keyed by absolute path. Never through a link: -P walks without
 * entering linked directories, and -h reads a link's own attributes, not those of what it
 * points at (a RUN step's `ln -s /dev/stdout` or a link to a host file would otherwise carry
 * the host's attributes into the layer).
 */
export async function readXattrsTree(dir: string): Promise<Map<string, Map<string, Buffer>>> {
  let stdout: string;
  try {
    ({ stdout } = await run('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', dir], {
      maxBuffer: 256 * 1024 * 1024,
    }));
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string };
    if (typeof e.code === 'number' && typeof e.stdout === 'string') stdout = e.stdout; // some files unreadable
    else missingTool(err, 'getfattr');
  }
  const out = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      out.set(unescapeName(line.slice('# file: '.length)), current);
    } else if (current && line.includes('=')) {
      const eq = line.indexOf('=');
      const value = line.slice(eq + 1);
      current.set(line.slice(0, eq), value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value.replace(/^"|"$/g, '')));
    }
  }
  for (const [k, v] of out) if (v.size === 0) out.delete(k);
  return out;
}

/** setfattr's message with the paths under `base` (a temp dir of the store) shown from the layer's root: "/etc/x". */
function fromBase(stderr: string, base: string | undefined): string {
  return base ? stderr.split(`${base}/`).join('/').split(base).join('/') : stderr;
}

/** Sets xattrs on many files in one setfattr run (symlinks are not followed); messages name paths from `base`. */
export async function writeXattrs(entries: { path: string; xattrs: Map<string, Buffer> }[], tmpDir: string, base?: string): Promise<void> {
  if (entries.length === 0) return;
  const lines: string[] = [];
  for (const e of entries) {
    lines.push(`# file: ${escapeName(e.path)}`);
    for (const [k, v] of e.xattrs) lines.push(`${k}=0x${v.toString('hex')}`);
    lines.push('');
  }
  const file = tempName(tmpDir, '.xattrs');
  await fs.writeFile(file, lines.join('\n'));
  try {
    await run('setfattr', ['-h', `--restore=${file}`]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') missingTool(err, 'setfattr');
    throw new StrataError(`setting extended attributes: ${fromBase((err as { stderr?: string }).stderr?.trim() || String(err), base)}`);
  } finally {
    await fs.rm(file, { force: true });
  }
}

/** Creates 0/0 character devices (overlayfs whiteouts) at the given paths. */
export async function makeWhiteouts(paths: string[]): Promise<void> {
  for (let i = 0; i < paths.length; i += 500) {
    const batch = paths.slice(i, i + 500);
    try {
      await run('sh', ['-c', 'for p; do mknod "$p" c 0 0 || exit 1; done', 'sh', ...batch]);
    } catch (err) {
      throw new StrataError(`creating whiteouts: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`);
    }
  }
}

/** Removes the named xattrs (symlinks not followed): one setfattr run per name and 500 paths; messages name paths from `base`. */
export async function removeXattrs(strip: Map<string, string[]>, base?: string): Promise<void> {
  const byName = new Map<string, string[]>();
  for (const [p, names] of strip) {
    for (const n of names) {
      const list = byName.get(n);
      if (list) list.push(p);
      else byName.set(n, [p]);
    }
  }
  // One setfattr per name (it removes one name per run); the names are independent, so their
  // runs go at once (an overlay upper dir typically has three: impure, origin, uuid).
  const remove = async (name: string, paths: string[]) => {
    for (let i = 0; i < paths.length; i += 500) {
      try {
        await run('setfattr', ['-h', '-x', name, '--', ...paths.slice(i, i + 500)]);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') missingTool(err, 'setfattr');
        // Hard links share an inode: once removed through one name, the others report it gone.
        const stderr = (err as { stderr?: string }).stderr?.trim() ?? '';
        if (stderr && stderr.split('\n').every((l) => l.endsWith('No such attribute'))) continue;
        throw new StrataError(`removing extended attributes: ${fromBase(stderr || String(err), base)}`);
      }
    }
  };
  const results = await Promise.allSettled([...byName].map(([name, paths]) => remove(name, paths)));
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
