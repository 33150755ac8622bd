// A terminal for a detached container with `-t`. runc in the foreground relays the container's
// pty to its own controlling terminal, and refuses to start without one; a shim has none. So
// the shim runs runc under `script` (util-linux), which gives it a fresh pty and copies that
// pty to and from the shim's pipes. Resizes from attach clients are applied to that pty with
// `stty -F`, which signals SIGWINCH to runc, which resizes the container's pty in turn.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { atomicWriteSync } from '../../store/index.js';

const WRAPPER = `#!/bin/sh
# strata: runc under a pseudo-terminal of its own (see src/runtime/shim/pty.ts).
cmd="stty rows \${STRATA_PTY_ROWS:-24} cols \${STRATA_PTY_COLS:-80} 2>/dev/null; exec runc"
for a in "$@"; do
  cmd="$cmd '$(printf '%s' "$a" | sed "s/'/'\\\\\\\\''/g")'"
done
exec script -qefc "$cmd" /dev/null
`;

/** Writes the wrapper into DIR (once) and returns its path, to use as the runner's runc binary. */
export function ptyRuncWrapper(dir: string): string {
  const file = path.join(dir, 'runc-pty.sh');
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== WRAPPER) {
    atomicWriteSync(file, WRAPPER, { mode: 0o755, durable: false });
  }
  return file;
}

/** Sets the size of the pty runc runs on (under `script` process SCRIPT_PID). */
export function resizeRuncPty(scriptPid: number, rows: number, cols: number): void {
  let children: string[] = [];
  try {
    children = fs.readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return;
  }
  for (const child of children) {
    let tty: string;
    try {
      tty = fs.readlinkSync(`/proc/${child}/fd/0`);
    } catch {
      continue;
    }
    if (!tty.startsWith('/dev/pts/')) continue;
    spawnSync('stty', ['-F', tty, 'rows', String(rows), 'cols', String(cols)], { stdio: 'ignore' });
  }
}
