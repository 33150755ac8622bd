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
// One watchdog serves all the containers a process runs under one runc root (a build's RUN steps,
// parallel stages): each is numbered, and the watchdog deletes at EOF those not reported done. It
// is spawned with the first of them (a fork of this process, some 5-10 ms of its main thread,
// once per build instead of once per step) and leaves a second after the last one is done.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { processStartTime } from '../store/index.js';

// Values are assigned through eval by name only (`id_N=$b`: $b expands inside the assignment,
// never as code), and N is a number this process chose.
const SCRIPT = `
alive() {
  want=$2
  set -- $(cat "/proc/$1/stat" 2>/dev/null)
  [ "$3" != Z ] && [ -n "\${22}" ] && [ "\${22}" = "$want" ]
}
max=0
while read -r word n a b; do
  case $n in ''|*[!0-9]*) continue ;; esac
  case $word in
    watch) eval "id_$n=\\$a pid_$n= start_$n="; [ "$n" -gt "$max" ] && max=$n ;;
    runc) eval "pid_$n=\\$a start_$n=\\$b" ;;
    done) eval "id_$n=" ;;
  esac
done
n=1
while [ $n -le $max ]; do
  eval "id=\\$id_$n pid=\\$pid_$n start=\\$start_$n"
  if [ -n "$id" ]; then
    if [ -n "$pid" ] && alive "$pid" "$start"; then
      kill -KILL "$pid" 2>/dev/null
      i=0
      while [ $i -lt 100 ] && alive "$pid" "$start"; do sleep 0.05; i=$((i + 1)); done
    fi
    "$1" --root "$2" delete -f "$id" >/dev/null 2>&1
  fi
  n=$((n + 1))
done
`;

/** The watchdog process of one runc root, shared by the containers this process runs there. */
class SharedWatchdog {
  static readonly #all = new Map<string, SharedWatchdog>();
  #next = 1;
  #active = 0;
  #idle: NodeJS.Timeout | undefined;

  private constructor(private readonly key: string, private readonly child: ChildProcess) {}

  static for(runc: string, runcRoot: string): SharedWatchdog {
    const key = `${runc}\0${runcRoot}`;
    let dog = SharedWatchdog.#all.get(key);
    if (!dog) {
      const child = spawn('sh', ['-c', SCRIPT, 'strata-watchdog', runc, runcRoot], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
      child.on('error', () => {}); // no sh: nothing watches; the next command's sweep still deletes the container
      child.stdin!.on('error', () => {});
      child.unref();
      (child.stdin as Socket).unref(); // the pipe must not keep this process alive: its close at exit is the signal
      dog = new SharedWatchdog(key, child);
      SharedWatchdog.#all.set(key, dog);
    }
    return dog;
  }

  watch(id: string): number {
    clearTimeout(this.#idle);
    this.#active++;
    const n = this.#next++;
    this.#send(`watch ${n} ${id}`);
    return n;
  }

  started(n: number, pid: number): void {
    this.#send(`runc ${n} ${pid} ${processStartTime(pid) ?? 0}`);
  }

  done(n: number): void {
    this.#send(`done ${n}`);
    if (--this.#active > 0) return;
    // Idle: it leaves soon (EOF with every container done), unless another container comes first.
    this.#idle = setTimeout(() => {
      SharedWatchdog.#all.delete(this.key);
      this.child.stdin!.end();
    }, 1000).unref();
  }

  #send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }
}

export class ContainerWatchdog {
  #released = false;
  private constructor(private readonly dog: SharedWatchdog, private readonly n: number) {}

  /** Starts watching over container `id` (before `runc run` is spawned). */
  static start(runc: string, runcRoot: string, id: string): ContainerWatchdog {
    if (/\s/.test(id)) throw new Error(`container ID "${id}" has white space`);
    const dog = SharedWatchdog.for(runc, runcRoot);
    return new ContainerWatchdog(dog, dog.watch(id));
  }

  /** Tells the watchdog which process is `runc run` (pid and start time: a reused pid is never killed). */
  runtimeStarted(pid: number): void {
    this.dog.started(this.n, pid);
  }

  /** The container is gone (or was never made): the watchdog forgets it. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.dog.done(this.n);
  }
}
