// `ps --filter`: Docker's keys over container records (the same key ORs, different keys AND).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialState, type ContainerRecord } from '../store/index.js';
import { containerPruneFilter, matchesFilters, parseFilter, type FilterRefs } from './containers-list.js';

const base = 'sha256:' + 'b'.repeat(64);
const child = 'sha256:' + 'c'.repeat(64);
const rec = (name: string, created: string, image: string, extra: Partial<ContainerRecord> = {}) => ({
  Id: name.padEnd(64, '0'), Name: `/${name}`, Created: created, Image: image, Config: { Image: 'ref', Labels: {} },
  HostConfig: { NetworkMode: 'default' }, Mounts: [], NetworkSettings: { Networks: { bridge: {} } }, ...extra,
}) as unknown as ContainerRecord;

const records = [
  rec('a1', '2024-01-01T00:00:01Z', base, { Mounts: [{ Type: 'volume', Name: 'data', Source: '', Destination: '/data', RW: true }] }),
  rec('b2', '2024-01-01T00:00:02Z', child, { HostConfig: { NetworkMode: 'appnet' } as ContainerRecord['HostConfig'], NetworkSettings: { Networks: { appnet: {} as never } } }),
  rec('c3', '2024-01-01T00:00:03Z', 'sha256:' + 'd'.repeat(64)),
];
const refs: FilterRefs = {
  ancestors: new Map([['busybox:latest', { id: base, diffIds: ['sha256:l1'] }], ['missing', undefined]]),
  imageLayers: new Map([[base, ['sha256:l1']], [child, ['sha256:l1', 'sha256:l2']], ['sha256:' + 'd'.repeat(64), ['sha256:l9']]]),
  created: new Map([['a1', '2024-01-01T00:00:01Z'], ['b2', '2024-01-01T00:00:02Z']]),
};
const names = (...texts: string[]) =>
  records.filter((r) => matchesFilters(r, initialState(), texts.map(parseFilter), refs)).map((r) => r.Name.slice(1));

describe('ps filters', () => {
  it('ancestor names an image by any reference and matches the images built on it', () => {
    assert.deepEqual(names('ancestor=busybox:latest'), ['a1', 'b2']);
    assert.deepEqual(names('ancestor=missing'), []);
    assert.deepEqual(names('ancestor=' + 'd'.repeat(12)), ['c3']);
  });

  it('before and since compare creation with the named container', () => {
    assert.deepEqual(names('before=b2'), ['a1']);
    assert.deepEqual(names('since=b2'), ['c3']);
  });

  it('volume by name or destination, network by name (default is bridge)', () => {
    assert.deepEqual(names('volume=data'), ['a1']);
    assert.deepEqual(names('volume=/data'), ['a1']);
    assert.deepEqual(names('network=bridge'), ['a1', 'c3']);
    assert.deepEqual(names('network=appnet'), ['b2']);
    assert.deepEqual(names('network=appnet', 'network=bridge', 'since=a1'), ['b2', 'c3']);
  });

  it('needs every label given (MatchKVList); matches a name with its leading slash or without, as the daemon', () => {
    const tagged = [
      rec('both', '2024-01-01T00:00:01Z', base, { Config: { Image: 'ref', Labels: { team: 'a', tier: 'web' } } as unknown as ContainerRecord['Config'] }),
      rec('one', '2024-01-01T00:00:02Z', base, { Config: { Image: 'ref', Labels: { team: 'a' } } as unknown as ContainerRecord['Config'] }),
    ];
    const labelled = (...texts: string[]) => tagged.filter((r) => matchesFilters(r, initialState(), texts.map(parseFilter), refs)).map((r) => r.Name.slice(1));
    assert.deepEqual(labelled('label=team=a'), ['both', 'one']);
    assert.deepEqual(labelled('label=team=a', 'label=tier'), ['both']);
    assert.deepEqual(labelled('label=tier', 'name=one'), []);
    assert.deepEqual(labelled('name=^/one$'), ['one'], 'with the leading slash, as the daemon matches');
    assert.deepEqual(labelled('name=^b'), ['both']);
  });

  it('refuses unknown keys, statuses and bad name patterns in one line', () => {
    assert.throws(() => parseFilter('bogus=1'), /invalid filter "bogus"/);
    assert.throws(() => parseFilter('status=up'), /invalid filter "status=up": a status is one of created, /);
    assert.throws(() => parseFilter('name=['), /invalid filter "name=\[": not a regular expression/);
    assert.deepEqual(parseFilter('status=exited'), { key: 'status', value: 'exited' });
  });
});

describe('container prune filters', () => {
  const labelled = [
    rec('old', '2024-01-01T00:00:00Z', base, { Config: { Image: 'ref', Labels: { keep: 'yes' } } as unknown as ContainerRecord['Config'] }),
    rec('new', '2024-06-01T00:00:00Z', base, { Config: { Image: 'ref', Labels: { team: 'a' } } as unknown as ContainerRecord['Config'] }),
  ];
  const pruned = (...filters: string[]) => labelled.filter(containerPruneFilter(filters, BigInt(Date.parse('2024-07-01T00:00:00Z')) * 1_000_000n)).map((r) => r.Name.slice(1));
  it('until (a time or a duration back from now), label and label!', () => {
    assert.deepEqual(pruned(), ['old', 'new']);
    assert.deepEqual(pruned('until=2024-03-01T00:00:00Z'), ['old']);
    assert.deepEqual(pruned('until=720h'), ['old']);
    assert.deepEqual(pruned('label=team=a'), ['new']);
    assert.deepEqual(pruned('label!=keep'), ['new']);
    assert.throws(() => pruned('status=exited'), /invalid filter "status": container prune supports until, label, label!/);
  });
});
