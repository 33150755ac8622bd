// Networking ready before the container's first instruction. `runc run` creates and starts the
// container in one go, so outbound networking (slirp4netns) and published ports set up from
// its pid would race the process: a `wget` at start could fail. So the shim has runc call a
// createRuntime hook (runtime-spec: after the namespaces exist, before the process starts);
// the hook hands the container's pid to the shim through a FIFO and waits on another until
// the shim has set the network up. The hook gets into the bundle through a wrapper the shim
// gives the runner as its runc binary: it adds `hooks` to config.json, then runs the real
// runc (or the pty wrapper). If the hook never comes, the shim falls back to doing the same
// from runc's pid file, after the start.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { atomicWriteSync } from '../../store/index.js';

const HOOK = `#!/bin/sh
# strata: runc createRuntime hook (see src/runtime/shim/net.ts). stdin: the container state.
dir="$1"
pid=$(tr -d '\\n' | sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p')
echo "$pid" > "$dir/net-request"
read -r answer < "$dir/net-ready"
[ "$answer" = ok ]
`;

const WRAPPER = `#!/bin/sh
# strata: runc with the shim's network hook added to the bundle (see src/runtime/shim/net.ts).
bundle=""
prev=""
for a in "$@"; do
  [ "$prev" = "--bundle" ] && bundle="$a"
  prev="$a"
done
if [ -n "$bundle" ] && ! grep -q '"hooks"' "$bundle/config.json"; then
  esc() { printf '%s' "$1" | sed 's/[#&\\\\]/\\\\&/g'; }
  hook=$(esc "$STRATA_NET_HOOK")
  dir=$(esc "$STRATA_NET_DIR")
  sed -i "0,/{/ s#{#{\\"hooks\\":{\\"createRuntime\\":[{\\"path\\":\\"$hook\\",\\"args\\":[\\"net-hook\\",\\"$dir\\"],\\"timeout\\":60}]},#" "$bundle/config.json"
fi
exec "$STRATA_NET_RUNC" "$@"
`;

/** Writes TEXT to a FIFO if someone has it open for reading right now (never blocks). */
function poke(fifo: string, text: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    return false; // ENXIO: no reader yet (or the FIFO is gone)
  }
  try {
    if (text) fs.writeSync(fd, text);
    return true;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

function writeScript(file: string, text: string): void {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return;
  atomicWriteSync(file, text, { mode: 0o755, durable: false });
}

export interface NetHook {
  /** The runc binary to give the runner. */
  runc: string;
  /** Resolves with the container's pid when the hook calls (undefined when closed first). */
  request: () => Promise<number | undefined>;
  /** Lets the hook return, so runc starts the process. */
  release: () => void;
  /** Unblocks and removes everything (the run ended, or gave up on the hook). */
  close: () => void;
}

/**
 * Prepares the hook for one run of the container in DIR. INNER is the runc binary the wrapper
 * ends in ("runc", or the pty wrapper). The environment variables are ours, so the runner's
 * runc (a child) sees them.
 */
export function prepareNetHook(dir: string, inner: string): NetHook {
  const hook = path.join(dir, 'net-hook.sh');
  const wrapper = path.join(dir, 'runc-net.sh');
  writeScript(hook, HOOK);
  writeScript(wrapper, WRAPPER);
  const requestFifo = path.join(dir, 'net-request');
  const readyFifo = path.join(dir, 'net-ready');
  for (const f of [requestFifo, readyFifo]) {
    fs.rmSync(f, { force: true });
    execFileSync('mkfifo', ['-m', '600', f]);
  }
  process.env.STRATA_NET_HOOK = hook;
  process.env.STRATA_NET_DIR = dir;
  process.env.STRATA_NET_RUNC = inner;
  let closed = false;
  let released = false;
  // Opening a FIFO blocks until the other side opens it: the reader's open runs in libuv's pool.
  const request = () =>
    new Promise<number | undefined>((resolve) => {
      let text = '';
      const stream = fs.createReadStream(requestFifo, { encoding: 'utf8' });
      stream.on('data', (d) => (text += d));
      stream.on('end', () => resolve(closed ? undefined : Number(text.trim()) || undefined));
      stream.on('error', () => resolve(undefined));
    });
  /** Writes WORD to the hook, waiting up to a few seconds for it to open its end. */
  const answer = async (word: string) => {
    if (released) return;
    released = true;
    for (let i = 0; i < 100; i++) {
      if (poke(readyFifo, `${word}\n`)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    runc: wrapper,
    request,
    release: () => void answer('ok'),
    close: () => {
      if (closed) return;
      closed = true;
      // Wake whichever side still waits: our reader on net-request, a hook on net-ready.
      poke(requestFifo, '');
      poke(readyFifo, 'closed\n');
      released = true;
      fs.rmSync(requestFifo, { force: true });
      fs.rmSync(readyFifo, { force: true });
    },
  };
}
