import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { bindHostPorts, closeListeners, parsePortSpec } from '../ports.js';
import { bindEarlyPorts, claimEarlyPorts } from './early-ports.js';

/** A TCP port on 127.0.0.1 free right now. */
async function freePort(): Promise<number> {
  const [l] = await bindHostPorts(parsePortSpec('127.0.0.1::80'));
  closeListeners([l!]);
  return l!.binding.hostPort;
}

/** Whether PORT on 127.0.0.1 can be bound now (nothing holds it). */
async function bindable(port: number): Promise<boolean> {
  try {
    closeListeners(await bindHostPorts(parsePortSpec(`127.0.0.1:${port}:80`)));
    return true;
  } catch {
    return false;
  }
}

const connected = (port: number): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });

describe('ports bound by a shim spawned early', () => {
  it('are taken at "go" when the configuration publishes the same, with the connections that came meanwhile', async () => {
    const port = await freePort();
    const specs = [`127.0.0.1:${port}:80`];
    const early = await bindEarlyPorts(JSON.stringify(specs));
    assert.ok(early, 'bound');
    assert.equal(await bindable(port), false);
    const client = await connected(port);
    await new Promise((r) => setTimeout(r, 50)); // accepted by the listener, held
    const taken = claimEarlyPorts(early, parsePortSpec(specs[0]!));
    assert.ok(taken);
    assert.equal(taken.listeners[0]!.binding.hostPort, port);
    assert.equal(taken.held.length, 1);
    assert.equal(taken.held[0]!.port, 80);
    // The held connection is the client's: what it writes arrives there.
    const got = new Promise<string>((resolve) => taken.held[0]!.socket.once('data', (d) => resolve(String(d))));
    taken.held[0]!.socket.resume();
    client.write('hello');
    assert.equal(await got, 'hello');
    client.destroy();
    taken.held[0]!.socket.destroy();
    closeListeners(taken.listeners);
    assert.equal(await bindable(port), true);
  });

  it('are closed at "go" when the configuration publishes something else, connections and all', async () => {
    const port = await freePort();
    const early = await bindEarlyPorts(JSON.stringify([`127.0.0.1:${port}:80`]));
    assert.ok(early);
    const client = await connected(port);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', () => undefined);
    client.resume();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(claimEarlyPorts(early, parsePortSpec(`127.0.0.1:${port}:8080`)), undefined);
    await closed;
    assert.equal(await bindable(port), true);
  });

  it('are not bound when a value is not a port spec or a port is taken, and leave nothing bound', async () => {
    assert.equal(await bindEarlyPorts(undefined), undefined);
    assert.equal(await bindEarlyPorts('not json'), undefined);
    assert.equal(await bindEarlyPorts(JSON.stringify(['80:nope'])), undefined);
    assert.equal(await bindEarlyPorts(JSON.stringify([])), undefined);
    const [held] = await bindHostPorts(parsePortSpec('127.0.0.1::80'));
    const free = await freePort();
    // The first is free, the second taken: the first is released again.
    const early = await bindEarlyPorts(JSON.stringify([`127.0.0.1:${free}:81`, `127.0.0.1:${held!.binding.hostPort}:80`]));
    assert.equal(early, undefined);
    assert.equal(await bindable(free), true);
    closeListeners([held!]);
    // Spent: a claim with nothing early binds nothing.
    assert.equal(claimEarlyPorts(undefined, parsePortSpec('127.0.0.1::80')), undefined);
  });
});
