// The inside half of the port forwarder for UDP, and for TCP where the splice relay
// (ports-relay.ts, the fast path) cannot run. It runs as `nsenter --net=/proc/PID/ns/net node
// ports-helper.js`: a process in the container's network namespace (and nothing else of the
// container's), talking to the shim over Node's IPC channel. Why this design:
// - Node cannot setns(), so code that must connect from inside the namespace has to be a
//   process started there; nsenter keeps the IPC fd, so the helper is an ordinary IPC child.
// - The shim binds each published TCP port on the host (so a port in use fails `run` at once)
//   and hands the listening socket itself to the helper (SCM_RIGHTS under Node's IPC). A socket
//   keeps the namespace it was created in, so the helper accepts host connections while its
//   own connects to 127.0.0.1:PORT reach the container. Per connection there is no IPC and no
//   second process: one accept, one connect, and the two sockets piped in one process (bytes
//   copied through it, which the splice relay avoids).
// - Nothing is exposed but the published ports: the helper listens on nothing of its own.
// - UDP datagrams are relayed as IPC messages by the shim (small, rare), one inner socket per peer.
import dgram from 'node:dgram';
import net from 'node:net';

export type HelperRequest =
  | { type: 'listen'; port: number }
  | { type: 'tcp'; port: number }
  | { type: 'udp'; port: number; peer: string; data: Uint8Array };
export type HelperReply = { type: 'ready' } | { type: 'listening'; port: number } | { type: 'udp-reply'; port: number; peer: string; data: Uint8Array };

const UDP_IDLE_MS = 30_000;
const udpSessions = new Map<string, { socket: dgram.Socket; timer: NodeJS.Timeout }>();

function send(reply: HelperReply): void {
  if (process.connected) process.send!(reply);
}

/** Pipes a client connection to PORT inside. */
function forwardTcp(port: number, outer: net.Socket): void {
  outer.pause();
  // Half-closes pass through: a client that is done sending still gets the whole reply.
  outer.allowHalfOpen = true;
  const inner = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const fail = () => {
    inner.destroy();
    outer.destroy();
  };
  inner.on('error', fail);
  outer.on('error', fail);
  inner.once('connect', () => {
    inner.setNoDelay(true);
    outer.setNoDelay(true);
    outer.pipe(inner);
    inner.pipe(outer);
    outer.resume();
  });
}

function forwardUdp(port: number, peer: string, data: Uint8Array): void {
  const key = `${port} ${peer}`;
  let session = udpSessions.get(key);
  if (!session) {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg) => send({ type: 'udp-reply', port, peer, data: msg }));
    socket.on('error', () => close());
    const close = () => {
      const s = udpSessions.get(key);
      if (s) clearTimeout(s.timer);
      udpSessions.delete(key);
      socket.close();
    };
    session = { socket, timer: setTimeout(close, UDP_IDLE_MS) };
    udpSessions.set(key, session);
    socket.connect(port, '127.0.0.1');
    const s = session;
    socket.once('connect', () => s.socket.send(data));
    return;
  }
  session.timer.refresh();
  session.socket.send(data);
}

process.on('message', (msg: HelperRequest, handle?: net.Server | net.Socket) => {
  if (msg.type === 'listen' && handle instanceof net.Server) {
    handle.on('connection', (socket: net.Socket) => forwardTcp(msg.port, socket));
    handle.on('error', () => undefined);
    send({ type: 'listening', port: msg.port });
  } else if (msg.type === 'tcp' && handle instanceof net.Socket) {
    // A connection the shim accepted before it handed the listening socket over.
    forwardTcp(msg.port, handle);
  } else if (msg.type === 'udp') forwardUdp(msg.port, msg.peer, Buffer.from(msg.data));
});
// The shim owns us: when it goes (or closes the channel), so do we, and the ports with us.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
