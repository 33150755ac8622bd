// "The outside" for network tests: a network namespace of the test's own, joined to the host by
// a veth pair on a /30 of 198.18.0.0/15 (the benchmarking range, never routed on the Internet)
// that no route of the host covers, with an HTTP server and optionally a DNS server in it.
// Traffic a container sends there goes through the host's routing and NAT exactly as it would
// to the world, and never leaves the machine.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomInt } from '../random.js';

export interface Outside {
  /** The outside end's address (where its servers listen). */
  ip: string;
  /** The host end's address (the outside's route back). */
  hostIp: string;
  httpPort: number;
  /** Runs a command in the outside namespace to completion. */
  exec: (args: string[]) => { status: number | null; stdout: string; stderr: string };
  /** Starts a DNS server there that answers every A query with ANSWER. */
  startDns: (answer: string) => Promise<void>;
  stop: () => void;
}

function routed(a: number, b: number): boolean {
  // Any host route whose network contains 198.a.b.0 (coarse: a /24 check is enough for a /30 in it).
  const target = ((198 << 24) | (a << 16) | (b << 8)) >>> 0;
  for (const line of fs.readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
    const [, dest, , , , , , mask] = line.trim().split(/\s+/);
    if (!dest || !mask) continue;
    const m = Buffer.from(mask, 'hex').readUInt32LE(0);
    if (m === 0) continue;
    if (((target & m) >>> 0) === Buffer.from(dest, 'hex').readUInt32LE(0)) return true;
  }
  return false;
}

const DNS_SERVER = `
const dgram = require('dgram');
const s = dgram.createSocket('udp4');
const answer = process.argv[1].split('.').map(Number);
s.on('message', (q, r) => {
  let at = 12; while (q[at]) at += q[at] + 1; at += 5;
  const h = Buffer.from(q.subarray(0, at)); h.writeUInt16BE(0x8180, 2); h.writeUInt16BE(1, 6);
  const type = q.readUInt16BE(at - 4);
  const rr = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...answer]);
  if (type !== 1) h.writeUInt16BE(0, 6);
  s.send(type === 1 ? Buffer.concat([h, rr]) : h, r.port, r.address);
});
s.bind(53, '0.0.0.0', () => console.log('ready'));
`;

export async function startOutside(): Promise<Outside> {
  let a = 0;
  let b = 0;
  for (let i = 0; ; i++) {
    a = 18 + randomInt(2);
    b = randomInt(256);
    if (!routed(a, b)) break;
    if (i > 100) throw new Error('no free /24 in 198.18.0.0/15 for the test namespace');
  }
  const quad = randomInt(64) * 4;
  const hostIp = `198.${a}.${b}.${quad + 1}`;
  const ip = `198.${a}.${b}.${quad + 2}`;
  const dev = `so${randomInt(2 ** 32).toString(16).padStart(8, '0')}`;
  const holder = spawn('unshare', ['--net', '--', 'sh', '-c', 'echo ready; read -r _'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((r) => holder.stdout!.once('data', r));
  const pid = holder.pid!;
  const inNs = (args: string[]) => ['nsenter', `--net=/proc/${pid}/ns/net`, '--', ...args];
  const run = (args: string[]) => {
    const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  };
  run(['ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)]);
  run(['ip', 'addr', 'add', `${hostIp}/30`, 'dev', dev]);
  run(['ip', 'link', 'set', dev, 'up']);
  run(inNs(['sh', '-c', `ip addr add ${ip}/30 dev eth0 && ip link set eth0 up && ip link set lo up && ip route add default via ${hostIp}`]));
  const www = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-outside-'));
  fs.writeFileSync(path.join(www, 'index.html'), 'hello from outside\n');
  const httpPort = 8080;
  const httpd = inNs(['busybox', 'httpd', '-f', '-p', String(httpPort), '-h', www]);
  const servers: ChildProcess[] = [spawn(httpd[0]!, httpd.slice(1), { stdio: 'ignore' })];
  // Until httpd listens.
  for (let i = 0; i < 100; i++) {
    const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'busybox', 'nc', '-w', '1', ip, String(httpPort)], { input: '' });
    if (r.status === 0) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  return {
    ip, hostIp, httpPort,
    exec: (args) => {
      const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', ...args], { encoding: 'utf8' });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    startDns: async (answer) => {
      const dns = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '--', process.execPath, '-e', DNS_SERVER, answer], { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(dns);
      await new Promise((r) => dns.stdout!.once('data', r));
    },
    stop: () => {
      for (const s of servers) s.kill('SIGKILL');
      holder.kill('SIGKILL');
      spawnSync('ip', ['link', 'del', dev], { stdio: 'ignore' });
      fs.rmSync(www, { recursive: true, force: true });
    },
  };
}
