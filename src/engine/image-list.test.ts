// `images`' filters as Docker's daemon applies them: reference (FamiliarMatch, narrowing an image's
// names), dangling, and their refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StrataError } from '../errors.js';
import type { Image } from '../store/index.js';
import { imageListFilters, referenceMatches, summarize } from './image-list.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const image = (id: string, names: string[]) => ({ id: `sha256:${id.repeat(64)}`, names, config: { config: {} } }) as unknown as Image;

describe('reference filter (FamiliarMatch)', () => {
  const names = ['docker.io/library/t1:latest', 'docker.io/library/t2:v1', 'docker.io/library/busybox:latest', 'docker.io/me/app:dev', 'localhost/x:1'];
  const matching = (pattern: string) => names.filter((n) => referenceMatches(pattern, n));

  it('a glob selects only the names it matches', () => {
    assert.deepEqual(matching('t*'), ['docker.io/library/t1:latest', 'docker.io/library/t2:v1']);
    assert.deepEqual(matching('busy?ox'), ['docker.io/library/busybox:latest']);
    assert.deepEqual(matching('nothing*'), []);
  });

  it('matches "name:tag" as well as the name, a tag glob included', () => {
    assert.deepEqual(matching('*:latest'), ['docker.io/library/t1:latest', 'docker.io/library/busybox:latest']);
    assert.deepEqual(matching('t*:v*'), ['docker.io/library/t2:v1']);
    assert.deepEqual(matching('t1:v1'), []);
  });

  it('a "*" does not cross "/" (path.Match); a full name matches its familiar one', () => {
    assert.deepEqual(matching('*'), ['docker.io/library/t1:latest', 'docker.io/library/t2:v1', 'docker.io/library/busybox:latest']);
    assert.deepEqual(matching('*/*'), ['docker.io/me/app:dev', 'localhost/x:1']);
    assert.deepEqual(matching('docker.io/library/busybox:latest'), ['docker.io/library/busybox:latest']);
    assert.deepEqual(matching('docker.io/me/app'), ['docker.io/me/app:dev']);
  });

  it('a bad pattern matches nothing instead of failing', () => {
    assert.deepEqual(matching('t[1'), []);
  });

  it('against a digest, a tagged pattern is taken as its repository', () => {
    assert.equal(referenceMatches('busybox:latest', `docker.io/library/busybox@${D1}`), true);
    assert.equal(referenceMatches('busybox', `docker.io/library/busybox@${D1}`), true);
    assert.equal(referenceMatches('other:latest', `docker.io/library/busybox@${D1}`), false);
  });
});

describe('images summaries', () => {
  const tagged = image('a', ['docker.io/library/busybox:latest', 'docker.io/library/busybox:1']);
  const byDigest = image('b', []);
  const unnamed = image('c', []);
  const digests = new Map([[tagged.id, [`docker.io/library/busybox@${D1}`]], [byDigest.id, [`localhost/app@${D2}`]]]);
  const list = (filters: string[]) => summarize([tagged, byDigest, unnamed], digests, imageListFilters(filters));

  it('without filters: every image with all its names', () => {
    assert.deepEqual(list([]).map((s) => [s.image.id[7], s.repoTags.length, s.repoDigests.length]), [['a', 2, 1], ['b', 0, 1], ['c', 0, 0]]);
  });

  it("a reference filter narrows an image's names; values are alternatives", () => {
    const [only] = list(['reference=busybox:1']);
    assert.deepEqual(only?.repoTags, ['docker.io/library/busybox:1']);
    assert.deepEqual(only?.repoDigests, [`docker.io/library/busybox@${D1}`], "its repository's digest stays (shown with --digests)");
    assert.deepEqual(list(['reference=busybox:1', 'reference=localhost/app']).map((s) => s.image.id[7]), ['a', 'b']);
    assert.deepEqual(list(['reference=nothing']), []);
  });

  it('tagged patterns that match no tag leave no digest row either', () => {
    assert.deepEqual(list(['reference=busybox:2']), []);
    assert.deepEqual(list(['reference=localhost/app:1']), [], 'an image known by digest alone is not listed for a tag');
  });

  it('dangling: no tag and no digest; an image pulled by digest alone is named', () => {
    assert.deepEqual(list(['dangling=true']).map((s) => s.image.id[7]), ['c']);
    assert.deepEqual(list(['dangling=1']).map((s) => s.image.id[7]), ['c']);
    assert.deepEqual(list(['dangling=false']).map((s) => s.image.id[7]), ['a', 'b']);
  });

  it("refuses what Docker's daemon refuses", () => {
    assert.throws(() => imageListFilters(['dangling=yes']), (e: unknown) => e instanceof StrataError && e.message === 'invalid filter "dangling=yes": expected true or false');
    assert.throws(() => imageListFilters(['colour=red']), (e: unknown) => e instanceof StrataError && e.message === 'invalid filter "colour"');
  });
});
