import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { NetworkStore, type NetworkRecord } from '../../../store/networks.js';
import { tempDir } from '../../../testing/cli.js';
import { Responder } from './responder.js';
import { buildResponse, parseQuery, RCODE, TYPE_A, TYPE_AAAA, TYPE_PTR } from './wire.js';

function query(name: string, type = TYPE_A, id = 0x1234): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const head = Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([head, ...labels, Buffer.from([0, type >> 8, type & 255, 0, 1])]);
}

function answers(reply: Buffer): { rcode: number; ips: string[]; names: number } {
  const q = parseQuery(Buffer.concat([reply.subarray(0, 2), Buffer.from([0x01, 0x00]), reply.subarray(4)]))!;
  const ips: string[] = [];
  let at = q.end;
  for (let i = 0; i < reply.readUInt16BE(6); i++) {
    const len = reply.readUInt16BE(at + 10);
    if (reply.readUInt16BE(at + 2) === TYPE_A) ips.push([...reply.subarray(at + 12, at + 16)].join('.'));
    at += 12 + len;
  }
  return { rcode: reply.readUInt16BE(2) & 0xf, ips, names: reply.readUInt16BE(6) };
}

describe('the network DNS responder', () => {
  const t = tempDir();
  const store = new NetworkStore(t.dir);
  // A network on 127.0.0.0/8, so that the test (on 127.0.0.1) is one of its containers.
  const net: NetworkRecord = {
    Name: 'app', Id: 'b'.repeat(64), Created: '', Scope: 'local', Driver: 'bridge', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '127.0.0.0/8', Gateway: '127.0.0.1' }] },
    Internal: true, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false, Options: {}, Labels: {},
    Strata: { bridge: 'lo', index: 1, subnetGiven: true },
  };
  const endpoint = (id: string, ip: string, names: string[]) => ({
    ContainerId: id.repeat(64).slice(0, 64), EndpointId: 'e', DnsNames: names, IPv4: ip, PrefixLen: 8, Gateway: '127.0.0.1', Mac: '',
    Veth: 'lo', IfName: 'eth0', Owner: { pid: process.pid, start: '' }, Upstreams: [],
  });
  const responder = new Responder(store, net);
  const ask = async (msg: Buffer): Promise<Buffer> => {
    const s = dgram.createSocket('udp4');
    try {
      return await new Promise<Buffer>((resolve) => {
        s.on('message', resolve);
        s.send(msg, responder.port(), '127.0.0.1');
      });
    } finally {
      s.close();
    }
  };

  before(async () => {
    store.create(net);
    // "lo" exists: both endpoints count as live.
    store.writeEndpoint(net.Id, endpoint('1', '127.0.0.2', ['web', 'www']));
    store.writeEndpoint(net.Id, endpoint('2', '127.0.0.3', ['api', 'www']));
    await responder.listen(0, '127.0.0.1');
  });
  after(() => {
    responder.close();
    t.cleanup();
  });

  it('answers names and aliases with the addresses of every container that has them', async () => {
    assert.deepEqual(answers(await ask(query('web'))), { rcode: RCODE.noError, ips: ['127.0.0.2'], names: 1 });
    assert.deepEqual(answers(await ask(query('WEB.app'))).ips, ['127.0.0.2']);
    assert.deepEqual(answers(await ask(query('www'))).ips.sort(), ['127.0.0.2', '127.0.0.3']);
  });

  it('answers other types of its names empty, and PTR for its addresses', async () => {
    assert.deepEqual(answers(await ask(query('web', TYPE_AAAA))), { rcode: RCODE.noError, ips: [], names: 0 });
    const ptr = await ask(query('3.0.0.127.in-addr.arpa', TYPE_PTR));
    assert.match(ptr.toString('latin1'), /\x03api\x03app\x00$/);
  });

  it('sees containers come and go', async () => {
    store.writeEndpoint(net.Id, endpoint('3', '127.0.0.4', ['late']));
    assert.deepEqual(answers(await ask(query('late'))).ips, ['127.0.0.4']);
    store.removeEndpoint(net.Id, '3'.repeat(64));
    assert.equal(answers(await ask(query('late'))).rcode, RCODE.servFail, 'an internal network forwards nothing');
  });

  it('builds replies that keep the id and the question', () => {
    const q = query('web', TYPE_A, 0xbeef);
    const reply = buildResponse(q, parseQuery(q)!, RCODE.nxDomain);
    assert.equal(reply.readUInt16BE(0), 0xbeef);
    assert.equal(reply.readUInt16BE(2) & 0x800f, 0x8003);
    assert.deepEqual(reply.subarray(12), q.subarray(12));
  });
});
