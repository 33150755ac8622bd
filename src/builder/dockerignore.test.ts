// Cases from moby/patternmatcher's own tests (patternmatcher_test.go, MatchesOrParentMatches).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IgnoreMatcher, parseIgnoreFile } from './dockerignore.js';

const single: [string, string, boolean][] = [
  ['**', 'file', true], ['**', 'file/', true], ['**/', 'file', true], ['**/', 'file/', true],
  ['**', '/', true], ['**/', '/', true], ['**', 'dir/file', true], ['**/', 'dir/file', true],
  ['**', 'dir/file/', true], ['**/', 'dir/file/', true], ['**/**', 'dir/file', true], ['**/**', 'dir/file/', true],
  ['dir/**', 'dir/file', true], ['dir/**', 'dir/file/', true], ['dir/**', 'dir/dir2/file', true],
  ['dir/**', 'dir/dir2/file/', true], ['**/dir', 'dir', true], ['**/dir', 'dir/file', true],
  ['**/dir2/*', 'dir/dir2/file', true], ['**/dir2/*', 'dir/dir2/file/', true], ['**/dir2/**', 'dir/dir2/dir3/file', true],
  ['**/dir2/**', 'dir/dir2/dir3/file/', true], ['**file', 'file', true], ['**file', 'dir/file', true],
  ['**/file', 'dir/file', true], ['**file', 'dir/dir/file', true], ['**/file', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file', true], ['**/file*', 'dir/dir/file.txt', true], ['**/file*txt', 'dir/dir/file.txt', true],
  ['**/file*.txt', 'dir/dir/file.txt', true], ['**/file*.txt*', 'dir/dir/file.txt', true], ['**/**/*.txt', 'dir/dir/file.txt', true],
  ['**/**/*.txt2', 'dir/dir/file.txt', false], ['**/*.txt', 'file.txt', true], ['**/**/*.txt', 'file.txt', true],
  ['a**/*.txt', 'a/file.txt', true], ['a**/*.txt', 'a/dir/file.txt', true], ['a**/*.txt', 'a/dir/dir/file.txt', true],
  ['a/*.txt', 'a/dir/file.txt', false], ['a/*.txt', 'a/file.txt', true], ['a/*.txt**', 'a/file.txt', true],
  ['a[b-d]e', 'ae', false], ['a[b-d]e', 'ace', true], ['a[b-d]e', 'aae', false], ['a[^b-d]e', 'aze', true],
  ['.*', '.foo', true], ['.*', 'foo', false], ['abc.def', 'abcdef', false], ['abc.def', 'abc.def', true],
  ['abc.def', 'abcZdef', false], ['abc?def', 'abcZdef', true], ['abc?def', 'abcdef', false],
  ['**/foo/bar', 'foo/bar', true], ['**/foo/bar', 'dir/foo/bar', true], ['**/foo/bar', 'dir/dir2/foo/bar', true],
  ['abc/**', 'abc', false], ['abc/**', 'abc/def', true], ['abc/**', 'abc/def/ghi', true],
  ['**/.foo', '.foo', true], ['**/.foo', 'bar.foo', false], ['a(b)c/def', 'a(b)c/def', true], ['a(b)c/def', 'a(b)c/xyz', false],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['a\\\\', 'a\\', true], ['a\\*b', 'a*b', true],
  ['/leading', 'leading', true], ['./dot/x', 'dot/x', true], ['dir/', 'dir/file', true],
];

const multi: [string[], string, boolean][] = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', false],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
  [['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['docs', '!docs/README.md'], 'docs/README.md', false],
  [['docs/', '!docs/README.md'], 'docs/README.md', false],
  [['docs/*', '!docs/README.md'], 'docs/README.md', false],
  [['!fileutils.go', '*.go'], 'fileutils.go', true],
  [['*.go', '!fileutils.go'], 'fileutils.go', false],
  [['*.go'], '.', false],
  [[], 'any/path', false],
];

describe('dockerignore', () => {
  for (const [pattern, text, want] of single) {
    it(`${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(text)}`, () => {
      assert.equal(new IgnoreMatcher([pattern]).matches(text), want);
    });
  }
  for (const [patterns, text, want] of multi) {
    it(`${JSON.stringify(patterns)} on ${JSON.stringify(text)} -> ${want}`, () => {
      assert.equal(new IgnoreMatcher(patterns).matches(text), want);
    });
  }
  it('rejects a lone "!" and malformed classes', () => {
    assert.throws(() => new IgnoreMatcher(['!']), /illegal exclusion pattern/);
    assert.throws(() => new IgnoreMatcher(['[']), /invalid .dockerignore pattern/);
    assert.throws(() => new IgnoreMatcher(['a[']), /invalid .dockerignore pattern/);
  });
  it('reads a file with comments, blank lines, CRLF and spaces', () => {
    const m = parseIgnoreFile('# comment\r\n\r\n  *.log  \r\n!keep.log\n');
    assert.equal(m.matches('x.log'), true);
    assert.equal(m.matches('keep.log'), false);
    assert.equal(m.hasExclusions, true);
  });
});
