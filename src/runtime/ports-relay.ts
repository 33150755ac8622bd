// The fast path of the TCP port forwarder: a relay in Python that moves bytes with splice(2),
// kernel to kernel, never copying them into a process. Node has no splice; Python (3.10+, as
// Debian ships it) has os.splice, and setns through ctypes. The shim starts it in the host's
// network namespace with the listening sockets (and any connection accepted early) as
// inherited descriptors; it then enters the container's network namespace, so every accept
// takes a host connection and every connect reaches the container's 127.0.0.1:PORT.
// Its stdin is a pipe from the shim: at EOF (the shim closed it, or died) it exits.
// Without a suitable python3 the Node helper (ports-helper.ts) does the same, copying.
import { spawn, type ChildProcess } from 'node:child_process';
import { PYTHON, PYTHON_FLAGS } from './ports-relay-check.js';

const RELAY_PY = String.raw`
import ctypes, fcntl, os, selectors, socket, sys
sel = selectors.DefaultSelector()
CHUNK = 1 << 20
FLAGS = os.SPLICE_F_NONBLOCK | os.SPLICE_F_MOVE

class Pipe:
    """One direction: src socket -> kernel pipe -> dst socket."""
    def __init__(self, src, dst):
        self.src, self.dst = src, dst
        self.r, self.w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            fcntl.fcntl(self.w, 1031, CHUNK)  # F_SETPIPE_SZ
        except OSError:
            pass
        self.buffered = 0
        self.eof = False
        self.done = False
    def pump(self):
        while True:
            if not self.eof:
                try:
                    n = os.splice(self.src.fileno(), self.w, CHUNK, flags=FLAGS)
                    if n == 0: self.eof = True
                    else: self.buffered += n
                except BlockingIOError:
                    pass
            if self.buffered:
                try:
                    n = os.splice(self.r, self.dst.fileno(), self.buffered, flags=FLAGS)
                    self.buffered -= n
                    if n: continue
                except BlockingIOError:
                    pass
            break
        if self.eof and not self.buffered and not self.done:
            self.done = True
            try: self.dst.shutdown(socket.SHUT_WR)
            except OSError: pass
    def close(self):
        if self.r >= 0:
            os.close(self.r); os.close(self.w); self.r = self.w = -1

class Conn:
    def __init__(self, outer, inner):
        self.outer, self.inner = outer, inner
        self.up, self.down = Pipe(outer, inner), Pipe(inner, outer)
        self.events, self.closed = {}, False
    def want(self, sock):
        src, dst = (self.up, self.down) if sock is self.outer else (self.down, self.up)
        ev = 0
        if not src.eof and src.buffered == 0: ev |= selectors.EVENT_READ
        if dst.buffered: ev |= selectors.EVENT_WRITE
        return ev
    def update(self):
        for s in (self.outer, self.inner):
            ev, old = self.want(s), self.events.get(s, 0)
            if ev == old: continue
            if old and ev: sel.modify(s, ev, self)
            elif ev: sel.register(s, ev, self)
            else: sel.unregister(s)
            self.events[s] = ev
    def step(self):
        if self.closed: return
        try:
            self.up.pump(); self.down.pump()
        except OSError:
            return self.close()
        if self.up.done and self.down.done: return self.close()
        self.update()
    def close(self):
        if self.closed: return
        self.closed = True
        for s, ev in self.events.items():
            if ev: sel.unregister(s)
        self.up.close(); self.down.close(); self.outer.close(); self.inner.close()

class Connecting:
    def __init__(self, outer, port):
        self.outer = outer
        outer.setblocking(False)
        outer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.inner = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.inner.setblocking(False)
        self.inner.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try: self.inner.connect(('127.0.0.1', port))
        except BlockingIOError: pass
        except OSError:
            self.inner.close(); outer.close(); return
        sel.register(self.inner, selectors.EVENT_WRITE, self)
    def step(self):
        sel.unregister(self.inner)
        if self.inner.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            self.inner.close(); self.outer.close(); return
        Conn(self.outer, self.inner).step()

class Listener:
    def __init__(self, sock, port):
        self.sock, self.port = sock, port
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ, self)
    def step(self):
        while True:
            try: c, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError): return
            except OSError: return
            Connecting(c, self.port)

class Lifeline:
    def step(self):
        if not os.read(0, 64): os._exit(0)

def setns(ns):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(ns, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
    os.close(fd)

setns(sys.argv[1])
early = []
for spec in sys.argv[2:]:
    kind, fd, port = spec.split(':')
    s = socket.socket(fileno=int(fd))
    if kind == 'L': Listener(s, int(port))
    else: early.append((s, int(port)))
for s, port in early: Connecting(s, port)
os.set_blocking(0, False)
sel.register(0, selectors.EVENT_READ, Lifeline())
sys.stdout.write('ready\n'); sys.stdout.flush()
while True:
    for key, _ in sel.select():
        key.data.step()
`;

export { checkSpliceRelay, spliceRelayAvailable } from './ports-relay-check.js';

export interface RelaySocket {
  kind: 'listener' | 'connection';
  fd: number;
  /** The container port it forwards to. */
  port: number;
}

/**
 * Starts the relay for the network namespace NETNS (a path: /proc/PID/ns/net) with SOCKETS
 * inherited. Returns at once (the caller closes its own copies in the same tick, so nothing is
 * accepted twice); `ready` resolves true once it runs in the container's namespace.
 */
export function startSpliceRelay(netns: string, sockets: RelaySocket[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; ready: Promise<boolean> } {
  const specs = sockets.map((s, i) => `${s.kind === 'listener' ? 'L' : 'C'}:${3 + i}:${s.port}`);
  const child = spawn(PYTHON, [...PYTHON_FLAGS, '-c', RELAY_PY, netns, ...specs], { stdio: ['pipe', 'pipe', 'inherit', ...sockets.map((s) => s.fd)], env });
  const ready = new Promise<boolean>((resolve) => {
    child.stdout!.once('data', () => resolve(true));
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  child.stdin!.on('error', () => undefined);
  return { child, ready };
}
