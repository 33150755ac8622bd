// The runtime's launcher for a `run -d` (without -i or -t): a small shell process spawned with
// the early shim, which starts the first run's `runc run` as soon as the command has prepared it,
// instead of the shim doing so once its own Node process has loaded (some 30-50 ms later). The
// container's output and runc's exit status reach the shim over three socket pairs made at the
// launcher's spawn and handed to the shim at its own (its fds 4-6, see launched-runc.ts); the shim
// supervises the run from then on exactly as one it spawned, and starts later runs (restarts)
// itself. The launcher stays runc's parent, so that runc's exit status is seen by someone (a
// detached process has no other way to learn it).
//
// Order keeps a kill -9 harmless: the command tells the shim "launched" before it tells the
// launcher to run runc. Killed before that, the launcher reads the end of its stdin and exits,
// and the shim, told to go or not, sees no "launching" line: the container did not start.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * Reads the runtime's argv, one argument per line up to `#end`, from stdin (an EOF first: exit,
 * nothing started); says "launching", runs it with stdin /dev/null, stdout and stderr on fds 3
 * and 4, and writes its exit status on fd 5. Foreground, not `&`: a background job of a
 * non-interactive shell ignores SIGINT and SIGQUIT, which runc and the container would inherit.
 */
const LAUNCHER_SCRIPT = [
  'set --',
  'while IFS= read -r a; do',
  '  [ "$a" = "#end" ] && break',
  '  set -- "$@" "$a"',
  'done',
  '[ "$a" = "#end" ] && [ $# -gt 0 ] || exit 0',
  'exec 0</dev/null',
  'echo launching >&5',
  '"$@" >&3 2>&4 3>&- 4>&- 5>&-',
  'echo "$?" >&5',
].join('\n');

export interface Launcher {
  /** The shim's ends of the three socket pairs, to pass as its fds 4-6 (then closed here). */
  shimEnds: Readable[];
  /** Runs ARGV (no argument may hold a newline: the caller has checked); the launcher exits when it ends. */
  launch(argv: string[]): void;
  /** No run for it: it exits without starting anything. */
  cancel(): void;
  /** Closes this process's copies of the shim's ends, once the shim has them. */
  handedOver(): void;
  child: ChildProcess;
}

/** Spawns a launcher (see the file's comment) with the environment ENV (runc's). */
export function spawnLauncher(env: NodeJS.ProcessEnv): Launcher {
  // Its own session, as the runc a shim spawns (runc.ts): no terminal's signals reach it.
  // Its $0 names it in ps's list.
  const child = spawn('sh', ['-c', LAUNCHER_SCRIPT, 'strata-runc-launcher'], { detached: true, stdio: ['pipe', 'ignore', 'ignore', 'pipe', 'pipe', 'pipe'], env });
  child.on('error', () => undefined); // the shim sees no "launching": not started
  child.stdin!.on('error', () => undefined);
  child.unref();
  const shimEnds = [3, 4, 5].map((fd) => child.stdio[fd] as Readable);
  let told = false;
  const tell = (text: string) => {
    if (told) return;
    told = true;
    child.stdin!.end(text);
  };
  return {
    shimEnds,
    child,
    launch: (argv) => tell(`${argv.join('\n')}\n#end\n`),
    cancel: () => tell(''),
    handedOver: () => {
      for (const end of shimEnds) end.destroy();
    },
  };
}
