// Argument errors through the real CLI: what is missing or extra, named as the usage line names
// it, then that usage line; never yargs's own wording. Exit 125.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runStrata, tempDir } from '../testing/cli.js';
import { argumentError, flagWithoutValue, unknownFlag, usageLine } from './usage-errors.js';

describe('argument errors', () => {
  const t = tempDir('strata-usage-');
  after(() => t.cleanup());

  const table: Array<[string[], string]> = [
    [['build'], '"strata build" requires 1 argument: PATH is missing\nUsage: strata build [OPTIONS] PATH'],
    [['cp', 'a'], '"strata cp" requires 2 arguments: DEST_PATH is missing\nUsage: strata cp [OPTIONS] SRC_PATH DEST_PATH'],
    [['cp', 'a', 'b', 'c'], '"strata cp" accepts at most 2 arguments: unexpected argument "c"\nUsage: strata cp [OPTIONS] SRC_PATH DEST_PATH'],
    [['tag'], '"strata tag" requires 2 arguments: SOURCE and TARGET are missing\nUsage: strata tag [OPTIONS] SOURCE TARGET'],
    [['image', 'rm'], '"strata image rm" requires at least 1 argument: IMAGE is missing\nUsage: strata image rm [OPTIONS] IMAGE [IMAGE...]'],
    [['images', '--bogus'], 'unknown flag: --bogus\nUsage: strata images [OPTIONS] [REPOSITORY]'],
    [['images', 'a', 'b', 'c'], '"strata images" accepts at most 1 argument: unexpected arguments "b" and "c"\nUsage: strata images [OPTIONS] [REPOSITORY]'],
    [['load', 'x'], '"strata load" accepts no arguments: unexpected argument "x"\nUsage: strata load [OPTIONS]'],
    [['ps', '--format'], 'flag needs an argument: --format'],
    [['logs', 'web', '-n'], 'flag needs an argument: -n'],
    // the flag took the name as its value: the flag is the error, not a missing name
    [['logs', '--bogus', 'web'], 'unknown flag: --bogus\nUsage: strata logs [OPTIONS] CONTAINER'],
    [['stop', '--bogus', 'web'], 'unknown flag: --bogus\nUsage: strata stop [OPTIONS] CONTAINER [CONTAINER...]'],
    [['image', 'rm', '-z', 'x'], 'unknown flag: -z\nUsage: strata image rm [OPTIONS] IMAGE [IMAGE...]'],
    // no yargs negation: "--no-X" is a flag of its own or unknown, even where X is a flag
    [['logs', '--no-such-flag', 'c'], 'unknown flag: --no-such-flag\nUsage: strata logs [OPTIONS] CONTAINER'],
    [['logs', '--no-follow', 'c'], 'unknown flag: --no-follow\nUsage: strata logs [OPTIONS] CONTAINER'],
    [['ps', '--no-all'], 'unknown flag: --no-all\nUsage: strata ps [OPTIONS]'],
    [['history', '--no-human', 'x'], 'unknown flag: --no-human\nUsage: strata history [OPTIONS] IMAGE'],
    [['volume', 'ls', '--no-trunc'], 'unknown flag: --no-trunc\nUsage: strata volume ls [OPTIONS]'],
    [['attach', '--stdin', 'c'], 'unknown flag: --stdin\nUsage: strata attach [OPTIONS] CONTAINER'],
    [['top'], '"strata top" requires at least 1 argument: CONTAINER is missing\nUsage: strata top [OPTIONS] CONTAINER [ps OPTIONS]'],
    [['top', '--no-such', 'c'], 'unknown flag: --no-such'],
    [['top', '-x', 'c'], "unknown shorthand flag: 'x' in -x"],
    // Docker's own --no-X flags (and their =false forms) are taken: the missing object is the error
    [['stats', '--no-stream', '--no-trunc', 'nosuch'], 'no such container: "nosuch"'],
    [['stats', '--no-stream=true', '--no-trunc=false', 'nosuch'], 'no such container: "nosuch"'],
    [['attach', '--no-stdin', 'nosuch'], 'no such container: "nosuch"'],
    [['container', 'ls', '--no-trunc', '--filter', 'name=nosuch', '-q'], ''],
  ];
  for (const [args, message] of table) {
    it(`strata ${args.join(' ')}`, () => {
      const r = runStrata(args, { root: t.dir });
      if (!message) return void assert.deepEqual([r.stderr, r.status], ['', 0]);
      assert.equal(r.stderr, `Error: ${message}\n`);
      assert.equal(r.status, 125);
      assert.equal(r.stdout, '');
    });
  }

  it('reads declarations and messages it does not know as they are', () => {
    assert.equal(usageLine('$0 top <container> [options..]'), 'Usage: strata top [OPTIONS] CONTAINER [OPTION [OPTION...]]');
    assert.equal(argumentError('something else', '$0 ps', []), 'something else\nUsage: strata ps [OPTIONS]');
    assert.equal(argumentError('a command is required', undefined, []), 'a command is required');
    assert.equal(flagWithoutValue(['logs', '--tail', '-1', 'c'], new Set(['tail'])), undefined, 'a negative number is a value');
    assert.equal(flagWithoutValue(['cp', '--', '-f'], new Set(['f'])), undefined);
  });
});

describe('an unknown flag before the arguments', () => {
  const known = new Set(['follow', 'f', 'tail', 'n', 'timestamps', 't', 'no-stream', 'help', 'h']);
  it('is named as typed, long or one letter of a short group', () => {
    assert.equal(unknownFlag(['logs', '--details', 'c3'], known), '--details');
    assert.equal(unknownFlag(['logs', '--bogus=1', 'c3'], known), '--bogus');
    assert.equal(unknownFlag(['logs', '-fz', 'c3'], known), '-z');
    assert.equal(unknownFlag(['logs', '-f', '-n5', '--no-stream', '--tail', '2', 'c3'], known), undefined);
    assert.equal(unknownFlag(['logs', 'c3', '--', '--bogus'], known), undefined);
    assert.equal(unknownFlag(['logs', '--no-follow', 'c3'], known), '--no-follow', 'no negation of a known flag');
  });
});

describe('removing what does not exist', () => {
  const t = tempDir('strata-missing-');
  after(() => t.cleanup());

  // Docker's CLI: `rm -f` says a missing container on stderr and goes on, exit 0; `rmi -f` the
  // same for a missing image; `network rm -f` passes over a missing network in silence. Without
  // -f each is an error (exit 1).
  it('is said and passed over with -f, an error without', () => {
    const cases: Array<[string[], string]> = [
      [['rm', 'nosuch'], 'Error: no such container: "nosuch"\n'],
      [['rmi', 'nosuch'], 'Error: no such image: "nosuch"\n'],
      [['network', 'rm', 'nosuch'], 'Error: network "nosuch" not found\n'],
    ];
    for (const [args, stderr] of cases) {
      const plain = runStrata(args, { root: t.dir });
      assert.deepEqual([plain.status, plain.stderr], [1, stderr], args.join(' '));
      const forced = runStrata([...args.slice(0, -1), '-f', ...args.slice(-1)], { root: t.dir });
      assert.deepEqual([forced.status, forced.stderr, forced.stdout], [0, args[0] === 'network' ? '' : stderr, ''], `${args.join(' ')} -f`);
    }
  });
});
