// Whether the splice relay (ports-relay.ts) can run here: python3 with os.splice, ctypes (for
// setns) and selectors. Asking means a python3 start, some 15 ms of CPU that every `run -d -p`
// spent beside the shim's Node start and the namespace's plumbing, on a machine whose two cores
// that start keeps busy. The answer is kept in /run (a tmpfs: it lasts one boot, as
// kernel-abi.ts's) with a stamp (inode, size, mtime, ctime) of the interpreter and of every
// module file the check loaded, as python3 reports them: an upgrade or a removal of any of them
// asks again. Without /run/strata (not root, read-only), every process asks, as before.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const SPLICE_CHECK_FILE = '/run/strata/splice-relay';

// The system's interpreter when there is one: wrappers on PATH (pyenv's shims) cost a shell start.
export const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
/**
 * How the relay and the check run it: isolated (no PYTHON* variables, no user site dir), without
 * the site module (the relay needs only the standard library): some 1.5 ms of CPU less a start.
 */
export const PYTHON_FLAGS = ['-I', '-S'];

// Prints the interpreter (python3 may link to python3.11: its target is stamped) and the files
// the relay's imports come from (built-in modules have none), one a line.
const CHECK = [...PYTHON_FLAGS, '-c', [
  'import sys, os, ctypes, _ctypes, fcntl, selectors, socket, _socket, select',
  'os.splice; ctypes.CDLL(None).setns',
  'print(sys.executable)',
  "[print(getattr(m, '__file__', '') or '') for m in (os, ctypes, _ctypes, fcntl, selectors, socket, _socket, select)]",
].join('\n')];

/** The stamp of FILE, or undefined when it cannot be stat'ed. */
function stampOf(file: string): string | undefined {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : undefined;
}

interface Kept {
  python: string;
  ok: boolean;
  /** Stamps of the interpreter and the module files, by path. */
  files: Record<string, string>;
}

/** The kept answer, if it was given for this PYTHON and none of its files changed since. */
export function keptAnswer(file = SPLICE_CHECK_FILE, python = PYTHON): boolean | undefined {
  let kept: Kept;
  try {
    kept = JSON.parse(fs.readFileSync(file, 'utf8')) as Kept;
  } catch {
    return undefined;
  }
  if (kept.python !== python || typeof kept.ok !== 'boolean' || !kept.files || Object.keys(kept.files).length === 0) return undefined;
  for (const [f, stamp] of Object.entries(kept.files)) if (stampOf(f) !== stamp) return undefined;
  return kept.ok;
}

/** Keeps a successful check's answer (best effort: without it, the next process asks again). */
export function keepAnswer(stdout: string, file = SPLICE_CHECK_FILE, python = PYTHON): void {
  const files: Record<string, string> = {};
  for (const f of stdout.split('\n').map((l) => l.trim()).filter((l) => path.isAbsolute(l))) {
    const stamp = stampOf(f);
    if (stamp === undefined) return;
    files[f] = stamp;
  }
  // Written in place, not through a temp file that a kill -9 would leave in /run: a torn
  // write is a prefix of the JSON, which no reader takes for an answer.
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify({ python, ok: true, files } satisfies Kept)}\n`);
  } catch {
    // not root, or /run read-only: the next process asks again
  }
}

let usable: boolean | undefined;
let checking: Promise<boolean> | undefined;

/** Runs the check: its output (the files to stamp) when PYTHON passes it, else undefined. */
export function askPythonSync(python = PYTHON): string | undefined {
  const r = spawnSync(python, CHECK, { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}

/** Whether python3 with os.splice and ctypes is there (asked once per process, unless kept). */
export function spliceRelayAvailable(): boolean {
  usable ??= keptAnswer();
  if (usable !== undefined) return usable;
  const out = askPythonSync();
  usable = out !== undefined;
  if (out !== undefined) keepAnswer(out);
  return usable;
}

/**
 * The same check without blocking: when no answer is kept, the starter of a shim asks while the
 * shim's Node starts (detached.ts), so the answer is there by the time the container's
 * namespace is.
 */
export function checkSpliceRelay(): Promise<boolean> {
  usable ??= keptAnswer();
  if (usable !== undefined) return Promise.resolve(usable);
  checking ??= new Promise<boolean>((resolve) => {
    const child = spawn(PYTHON, CHECK, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('error', () => resolve(false));
    child.once('close', (code) => {
      if (code === 0) keepAnswer(out);
      resolve(code === 0);
    });
  }).then((ok) => (usable = ok));
  return checking;
}
