// A container that must not outlive the process that started it (a build's RUN step): runc runs
// in a session of its own and the container's processes are not its children's children in any
// way a signal to us reaches, so a `kill -9` of strata (or of its process group) would leave
// them running. A watchdog does the cleanup instead: a tiny shell, in a session of its own,
// reading a pipe whose only writer is this process. The kernel closes that pipe whatever way
// this process ends; at EOF without "done" the watchdog kills the `runc run` it was told of
// (so runc cannot go on to create the container after the delete), then `runc delete -f`s the
// container, which kills everything in its pid namespace. A normal end sends "done" first.
//
// Why not PR_SET_PDEATHSIG (`setpriv --pdeathsig KILL runc ...`): it kills `runc run`, but the
// container's init is started by runc with no parent-death signal and survives it (measured:
// it is reparented and keeps running), and the image's own programs cannot be made to set one.
// The watchdog costs one `sh` per RUN step (a fork, about a millisecond), off the step's path.
import { spawn, type ChildProcess } from 'node:child_process';
import { processStartTime } from '../store/index.js';

const SCRIPT = `
alive() {
  set -- $(cat "/proc/$1/stat" 2>/dev/null)
  [ "$3" != Z ] && [ -n "\${22}" ] && [ "\${22}" = "$2" ]
}
pid= start=
while read -r word a b; do
  case $word in
    runc) pid=$a start=$b ;;
    done) exit 0 ;;
  esac
done
if [ -n "$pid" ] && alive "$pid" "$start"; then
  kill -KILL "$pid" 2>/dev/null
  i=0
  while [ $i -lt 100 ] && alive "$pid" "$start"; do sleep 0.05; i=$((i + 1)); done
fi
"$1" --root "$2" delete -f "$3" >/dev/null 2>&1
`;

export class ContainerWatchdog {
  private constructor(private readonly child: ChildProcess) {}

  /** Starts watching over container `id` (before `runc run` is spawned). */
  static start(runc: string, runcRoot: string, id: string): ContainerWatchdog {
    const child = spawn('sh', ['-c', SCRIPT, 'strata-watchdog', runc, runcRoot, id], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => {}); // no sh: nothing watches; the next command's sweep still deletes the container
    child.stdin!.on('error', () => {});
    child.unref();
    return new ContainerWatchdog(child);
  }

  /** Tells the watchdog which process is `runc run` (pid and start time: a reused pid is never killed). */
  runtimeStarted(pid: number): void {
    this.child.stdin!.write(`runc ${pid} ${processStartTime(pid) ?? 0}\n`);
  }

  /** The container is gone (or was never made): the watchdog leaves without doing anything. */
  release(): void {
    this.child.stdin!.end('done\n');
  }
}
