import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPortCommand, formatPortsColumn, naturalLess } from './ports.js';

describe('published ports as text', () => {
  it('formats like docker ps and docker port', () => {
    const b = [{ hostIp: '127.0.0.1', hostPort: 8800, containerPort: 80, protocol: 'tcp' as const }, { hostIp: '', hostPort: 32768, containerPort: 53, protocol: 'udp' as const }];
    assert.equal(formatPortsColumn(b, ['443/tcp']), '127.0.0.1:8800->80/tcp, 0.0.0.0:32768->53/udp, 443/tcp');
    // Sorted as docker/cli sorts them (sortorder.NaturalLess): 53 before 80, 8080 after 443.
    assert.deepEqual(formatPortCommand(b), ['53/udp -> 0.0.0.0:32768', '80/tcp -> 127.0.0.1:8800']);
    const more = [...b, { hostIp: '', hostPort: 9443, containerPort: 443, protocol: 'tcp' as const }, { hostIp: '', hostPort: 8080, containerPort: 8080, protocol: 'tcp' as const }];
    assert.deepEqual(formatPortCommand(more), ['53/udp -> 0.0.0.0:32768', '80/tcp -> 127.0.0.1:8800', '443/tcp -> 0.0.0.0:9443', '8080/tcp -> 0.0.0.0:8080']);
    assert.deepEqual(formatPortCommand(b, '80'), ['127.0.0.1:8800']);
    assert.deepEqual(formatPortCommand(b, '53/udp'), ['0.0.0.0:32768']);
    assert.throws(() => formatPortCommand(b, '81', 'web'), { message: "No public port '81' published for web" });
    assert.throws(() => formatPortCommand(b, 'http', 'web'), { message: 'invalid port (http)' });
  });

  it("sorts as Go's sortorder.NaturalLess", () => {
    const cases: [string, string, boolean][] = [['a2', 'a10', true], ['a10', 'a2', false], ['2', 'a', true], ['a', '2', false], ['a01', 'a1', false], ['a1', 'a01', true], ['ab', 'abc', true], ['x', 'x', false]];
    for (const [x, y, less] of cases) assert.equal(naturalLess(x, y), less, `${x} < ${y}`);
  });
});
