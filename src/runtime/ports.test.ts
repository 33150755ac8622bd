import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { PortForwarder } from './ports-forward.js';
import { spliceRelayAvailable } from './ports-relay.js';
import { bindHostPorts, closeListeners, exposedPortRequests, parsePortSpec } from './ports.js';

describe('port specs', () => {
  it('parses the forms docker accepts', () => {
    assert.deepEqual(parsePortSpec('80'), [{ hostIp: '', hostPort: 0, hostPortEnd: 0, containerPort: 80, protocol: 'tcp' }]);
    assert.deepEqual(parsePortSpec('127.0.0.1:8800:80'), [{ hostIp: '127.0.0.1', hostPort: 8800, hostPortEnd: 8800, containerPort: 80, protocol: 'tcp' }]);
    assert.deepEqual(parsePortSpec('127.0.0.1::53/udp'), [{ hostIp: '127.0.0.1', hostPort: 0, hostPortEnd: 0, containerPort: 53, protocol: 'udp' }]);
    assert.deepEqual(parsePortSpec('[::1]:8080:80')[0]!.hostIp, '::1');
    assert.deepEqual(parsePortSpec('8000-8001:80-81').map((r) => [r.hostPort, r.containerPort]), [[8000, 80], [8001, 81]]);
    assert.deepEqual(parsePortSpec('8000-8010:80'), [{ hostIp: '', hostPort: 8000, hostPortEnd: 8010, containerPort: 80, protocol: 'tcp' }]);
    assert.equal(parsePortSpec('80-82').length, 3);
    assert.deepEqual(exposedPortRequests({ '80/tcp': {}, '53/udp': {} }).map((r) => `${r.containerPort}/${r.protocol}`), ['80/tcp', '53/udp']);
  });

  it('refuses invalid specs with one clear line', () => {
    const cases: Array<[string, RegExp]> = [
      ['abc', /invalid port spec "abc": container port "abc" is not a port or a port range$/],
      ['8080:70000', /out of range/],
      ['1.2.3:80:80', /is not an IP address/],
      ['80/sctp', /unsupported protocol "sctp"/],
      ['8000-8002:80-81', /differ in size/],
      ['90-80', /ends before it starts/],
      ['1:2:3:4', /too many colons/],
    ];
    for (const [spec, re] of cases) assert.throws(() => parsePortSpec(spec), re, spec);
  });
});

describe('host port binding', () => {
  it('reports a port in use and leaves nothing bound', async () => {
    const [held] = await bindHostPorts(parsePortSpec('127.0.0.1::80'));
    const busy = held!.binding.hostPort;
    const [free] = await bindHostPorts(parsePortSpec('127.0.0.1::81'));
    const freePort = free!.binding.hostPort;
    closeListeners([free!]);
    try {
      await assert.rejects(bindHostPorts([...parsePortSpec(`127.0.0.1:${freePort}:81`), ...parsePortSpec(`127.0.0.1:${busy}:80`)]),
        new RegExp(`^StrataError: cannot publish port 127.0.0.1:${busy}/tcp: address already in use$`));
      // The first mapping was released when the second failed.
      const again = await bindHostPorts(parsePortSpec(`127.0.0.1:${freePort}:81`));
      closeListeners(again);
    } finally {
      closeListeners([held!]);
    }
  });

  it('picks a free port from a host range', async () => {
    const [first] = await bindHostPorts(parsePortSpec('127.0.0.1::80'));
    const p = first!.binding.hostPort;
    try {
      const [next] = await bindHostPorts(parsePortSpec(`127.0.0.1:${p}-${p + 5}:80`));
      assert.ok(next!.binding.hostPort > p && next!.binding.hostPort <= p + 5);
      closeListeners([next!]);
    } finally {
      closeListeners([first!]);
    }
  });
});

/** A process in a fresh network namespace serving TCP 80 and 81 and UDP 53 on its loopback. */
function namespaceServer() {
  const script = `
    const net = require('net'), dgram = require('dgram');
    net.createServer((c) => c.end('hello from 80')).listen(80, '127.0.0.1');
    net.createServer((c) => c.end('secret 81')).listen(81, '127.0.0.1');
    net.createServer((c) => c.pipe(c)).listen(83, '127.0.0.1');
    const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send('echo ' + m, r.port, r.address)); u.bind(53, '127.0.0.1', () => console.log('up'));`;
  const child = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" -e "$0"`, script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const up = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  return { child, up };
}

function fetchTcp(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const c = net.connect(port, '127.0.0.1');
    c.on('data', (d) => chunks.push(d));
    c.on('close', () => resolve(Buffer.concat(chunks).toString()));
    c.on('error', reject);
  });
}

for (const splice of [true, false]) describe(`port forwarder (${splice ? 'splice relay' : 'node helper'})`, () => {
  const ns = namespaceServer();
  after(() => ns.child.kill('SIGKILL'));

  it('reaches only the published ports inside the namespace, TCP and UDP', { skip: splice && !spliceRelayAvailable() && 'python3 with os.splice is not available' }, async () => {
    await ns.up;
    const listeners = await bindHostPorts([...parsePortSpec('127.0.0.1::80'), ...parsePortSpec('127.0.0.1::53/udp'), ...parsePortSpec('127.0.0.1::83')]);
    const fwd = new PortForwarder(listeners, { splice });
    try {
      // A connection made before the helper is there waits for it.
      const early = fetchTcp(listeners[0]!.binding.hostPort);
      // By pid, and (the shim's way before the container runs) by the namespace's path.
      await fwd.attach(splice ? `/proc/${ns.child.pid!}/ns/net` : ns.child.pid!);
      assert.equal(await early, 'hello from 80');
      assert.equal(await fetchTcp(listeners[0]!.binding.hostPort), 'hello from 80');
      const u = dgram.createSocket('udp4');
      const reply = new Promise<string>((resolve) => u.once('message', (m) => resolve(m.toString())));
      u.send('ping', listeners[1]!.binding.hostPort, '127.0.0.1');
      assert.equal(await reply, 'echo ping');
      u.close();
      // 4 MiB each way through an echo server, byte for byte.
      const payload = crypto.randomBytes(4 << 20);
      const echoed = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const c = net.connect(listeners[2]!.binding.hostPort, '127.0.0.1', () => c.end(payload));
        c.on('data', (d) => chunks.push(d));
        c.on('end', () => resolve(Buffer.concat(chunks)));
        c.on('error', reject);
      });
      assert.equal(echoed.length, payload.length);
      assert.ok(echoed.equals(payload));
    } finally {
      await fwd.close();
    }
    await assert.rejects(fetchTcp(listeners[0]!.binding.hostPort), /ECONNREFUSED/);
  });
});
