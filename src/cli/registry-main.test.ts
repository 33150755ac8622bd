// The registry bundle's own parser (cli/registry-main.ts): plain pull/push lines are parsed as
// yargs would; anything else is left to the full CLI, which then parses it (help, combined flags).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runStrata, tempDir } from '../testing/cli.js';
import { parsePlain } from './registry-main.js';

test('plain pull and push lines', () => {
  assert.deepEqual(parsePlain('pull', ['-q', 'busybox']), { 'tls-verify': true, quiet: true, name: 'busybox' });
  assert.deepEqual(parsePlain('pull', ['--platform', 'linux/arm64', '--tls-verify=false', '-a', 'r/x']),
    { 'tls-verify': false, platform: 'linux/arm64', 'all-tags': true, name: 'r/x' });
  assert.deepEqual(parsePlain('pull', ['--platform=linux/amd64', 'x:1']), { 'tls-verify': true, platform: 'linux/amd64', name: 'x:1' });
  assert.deepEqual(parsePlain('push', ['--index-of', 'a', '--index-of=b', 'r/x:1', '--quiet']),
    { 'tls-verify': true, 'index-of': ['a', 'b'], name: 'r/x:1', quiet: true });
  assert.deepEqual(parsePlain('push', ['-a', 'r/x']), { 'tls-verify': true, 'all-tags': true, name: 'r/x' });
});

test('anything unusual goes to the full CLI', () => {
  for (const [cmd, args] of [
    ['pull', ['--help', 'x']], ['pull', ['-h']], ['pull', ['-qa', 'x']], ['pull', []], ['pull', ['a', 'b']],
    ['pull', ['--tls-verify', 'false', 'x']], ['pull', ['--platform']], ['pull', ['--platform', '-q', 'x']],
    ['pull', ['--platform', 'a', '--platform', 'b', 'x']], ['pull', ['--quiet=yes', 'x']], ['push', ['-qa', 'x']],
    ['push', ['--unknown', 'x']], ['pull', ['--', 'x']],
  ] as const) assert.equal(parsePlain(cmd, [...args]), undefined, `${cmd} ${args.join(' ')}`);
});

test('through the strata command: help and combined flags are the full CLI\'s', () => {
  const t = tempDir('strata-regmain-');
  try {
    const help = runStrata(['pull', '--help'], { root: t.dir });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--all-tags/);
    // -qa is yargs's: parsed there, and the pull then fails on the (closed) registry, one line.
    const r = runStrata(['pull', '-qa', '--tls-verify=false', '127.0.0.1:1/none/x'], { root: t.dir });
    assert.equal(r.status, 125);
    assert.doesNotMatch(r.stderr, /Unknown argument|flag/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  } finally {
    t.cleanup();
  }
});
