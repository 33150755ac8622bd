import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPortCommand, formatPortsColumn } from './ports.js';

describe('published ports as text', () => {
  it('formats like docker ps and docker port', () => {
    const b = [{ hostIp: '127.0.0.1', hostPort: 8800, containerPort: 80, protocol: 'tcp' as const }, { hostIp: '', hostPort: 32768, containerPort: 53, protocol: 'udp' as const }];
    assert.equal(formatPortsColumn(b, ['443/tcp']), '127.0.0.1:8800->80/tcp, 0.0.0.0:32768->53/udp, 443/tcp');
    assert.deepEqual(formatPortCommand(b), ['80/tcp -> 127.0.0.1:8800', '53/udp -> 0.0.0.0:32768']);
    assert.deepEqual(formatPortCommand(b, '80'), ['127.0.0.1:8800']);
    assert.throws(() => formatPortCommand(b, '81'), /no public port "81\/tcp"/);
  });
});
