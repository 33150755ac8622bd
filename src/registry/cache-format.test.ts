// A cache entry's manifest round-trips, and one that is not ours (or lies) is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CACHE_CONFIG_TYPE, cacheIndex, entryManifest, parseCacheIndex, parseEntryManifest, parseStepConfig } from './cache-format.js';

const key = 'c'.repeat(64);
const cfg = { mediaType: CACHE_CONFIG_TYPE, digest: `sha256:${'d'.repeat(64)}`, size: 10 };
const entry = {
  key, parent: `image:sha256:${'a'.repeat(64)}`, stage: 'build', step: 'RUN make', created: '2026-01-02T03:04:05.000Z',
  layer: { diffId: `sha256:${'1'.repeat(64)}`, digest: `sha256:${'2'.repeat(64)}`, size: 100, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', tarSize: 300 },
};

test('an entry manifest round-trips', () => {
  const m = entryManifest(entry, cfg);
  const back = parseEntryManifest(m, 'sha256:x', 'reg/c');
  assert.deepEqual({ ...back, manifestDigest: undefined, config: undefined }, { ...entry, manifestDigest: undefined, config: undefined });
  assert.deepEqual(back.config, { digest: cfg.digest, size: cfg.size });
  const none = parseEntryManifest(entryManifest({ ...entry, layer: undefined }, cfg), 'sha256:y', 'reg/c');
  assert.equal(none.layer, undefined);
});

test('what is not a strata entry is refused, naming the cache', () => {
  const mutate = (f: (m: Record<string, any>) => void) => {
    const m = JSON.parse(entryManifest(entry, cfg).toString()) as Record<string, any>;
    f(m);
    return Buffer.from(JSON.stringify(m));
  };
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('not json'), /not JSON/],
    [mutate((m) => (m.config.mediaType = 'application/vnd.oci.image.config.v1+json')), /config/],
    [mutate((m) => (m.annotations['io.strata.cache.key'] = '../../etc')), /key or time/],
    [mutate((m) => (m.layers[0].digest = 'sha256:../../x')), /layer/],
    [mutate((m) => (m.layers[0].annotations['io.strata.layer.diff-id'] = 'sha256:short')), /layer/],
    [mutate((m) => m.layers.push(m.layers[0])), /layers/],
    [mutate((m) => { m.layers[0].mediaType = 'application/vnd.oci.image.layer.v1.tar'; }), /layer digest/],
    [mutate((m) => delete m.annotations['io.strata.cache.parent']), /annotation io.strata.cache.parent/],
  ];
  for (const [bytes, re] of cases) assert.throws(() => parseEntryManifest(bytes, 'sha256:z', 'reg/c'), (err: Error) => re.test(err.message) && err.message.includes('in reg/c'));
  assert.throws(() => parseStepConfig(Buffer.from('{"inputs":{}}'), 'reg/c'), /no key inputs/);
});

test("a tag's index round-trips; an image, another index or a bad entry is no cache", () => {
  const INDEX = 'application/vnd.oci.image.index.v1+json';
  const e = { key, digest: `sha256:${'e'.repeat(64)}`, size: 900 };
  const bytes = cacheIndex([e], '2026-01-02T03:04:05.000Z');
  assert.deepEqual([...parseCacheIndex(bytes, INDEX).values()], [e]);
  const other = (f: (m: Record<string, any>) => void) => {
    const m = JSON.parse(bytes.toString()) as Record<string, any>;
    f(m);
    return Buffer.from(JSON.stringify(m));
  };
  assert.throws(() => parseCacheIndex(bytes, 'application/vnd.oci.image.manifest.v1+json'), /^StrataError: not a strata build cache: it names an image$/);
  assert.throws(() => parseCacheIndex(other((m) => delete m.annotations), INDEX), /an index of something else/);
  assert.throws(() => parseCacheIndex(other((m) => (m.manifests[0].annotations['io.strata.cache.key'] = 'k-1')), INDEX), /an entry/);
  assert.throws(() => parseCacheIndex(other((m) => (m.manifests[0].digest = 'sha256:../x')), INDEX), /an entry/);
});
