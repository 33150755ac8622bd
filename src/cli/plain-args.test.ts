// plain-args.ts against yargs itself: for command lines of every command module, the plain parse
// either declines (the line goes to yargs) or gives the handler exactly what yargs gives it, and
// it declines every line yargs refuses. Each module's own `register` is used on both sides, with
// its handlers replaced by ones that keep their argv.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Argv } from 'yargs';
import yargs from 'yargs';
import { baseCli, type RegisterCommands } from './command.js';
import { parsePlain } from './plain-args.js';
import { tempDir } from '../testing/cli.js';

// Nothing here runs a command, but should a handler escape the capture it meets an empty root.
const scratch = tempDir('strata-plain-args-');
process.env.STRATA_ROOT = scratch.dir;

interface Captured {
  argv?: Record<string, unknown>;
  error?: string;
}

/** REGISTER with every command handler replaced by one that stores its argv in SINK. */
function capturing(register: RegisterCommands, sink: Captured): RegisterCommands {
  const targets = new WeakMap<object, Argv>();
  const builderOf = (builder: unknown) => (typeof builder === 'function' ? (inner: Argv) => { const r = (builder as (y: Argv) => Argv)(wrap(inner)); return targets.get(r) ?? r; } : builder);
  const handlerOf = (handler: unknown) => (typeof handler === 'function' ? (a: Record<string, unknown>) => { sink.argv = a; } : handler);
  // Every form of command() strata uses; any other fails the test rather than run a real handler.
  const capturedCommand = (args: unknown[]): unknown[] => {
    if (args.length === 1 && Array.isArray(args[0])) return [(args[0] as unknown[]).map((m) => capturedCommand([m])[0])];
    if (args.length === 1 && typeof args[0] === 'object' && args[0] !== null) {
      const m = args[0] as Record<string, unknown>;
      return [{ ...m, builder: builderOf(m.builder), handler: handlerOf(m.handler) }];
    }
    if (typeof args[0] !== 'string' && !Array.isArray(args[0])) throw new Error(`a command() form the test does not capture: ${String(args[0])}`);
    const [cmd, desc, builder, handler, ...more] = args;
    return [cmd, desc, builderOf(builder), handlerOf(handler), ...more];
  };
  const wrap = (y: Argv): Argv => {
    const proxy: Argv = new Proxy(y, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (prop === 'command') args = capturedCommand(args);
          const r = (value as (...a: unknown[]) => unknown).apply(target, args);
          return r === target ? proxy : r;
        };
      },
    });
    targets.set(proxy, y);
    return proxy;
  };
  return (cli) => {
    const r = register(wrap(cli));
    return targets.get(r) ?? r;
  };
}

async function viaYargs(register: RegisterCommands, line: string[]): Promise<Captured> {
  const sink: Captured = {};
  const cli = capturing(register, sink)(baseCli(yargs(line)).exitProcess(false).fail((msg, err) => { throw err ?? new Error(msg); }));
  try {
    await cli.parseAsync();
  } catch (err) {
    sink.error = (err as Error).message;
  }
  return sink;
}

function viaPlain(register: RegisterCommands, line: string[]): Record<string, unknown> | undefined {
  const sink: Captured = {};
  const plain = parsePlain(capturing(register, sink), line);
  if (!plain) return undefined;
  void plain.handler(plain.argv);
  assert.ok(sink.argv, 'the plain parse found the handler');
  return sink.argv;
}

/** Command lines of each module: `plain` ones must take the plain path, `other` ones may not. */
const CASES: Array<{ module: string; load: () => Promise<{ register: RegisterCommands }>; plain: string[][]; other: string[][] }> = [
  {
    module: 'containers',
    load: () => import('./containers.js'),
    plain: [
      ['ps'], ['ps', '-a'], ['ps', '-aq'], ['ps', '-a', '-q', '--no-trunc'], ['ps', '--format', '{{.Names}}', '-a'], ['ps', '--format={{.ID}}'],
      ['ps', '-f', 'name=x', '-f', 'status=exited', '-a'], ['ps', '--filter', 'label=a=b'], ['ps', '-n', '3'], ['ps', '--last=2', '-s'],
      ['rm', 'c1'], ['rm', '-f', 'c1', 'c2'], ['rm', '-fv', 'c1'], ['rm', '--force=true', 'c1'], ['rm', '0123', '1e5'],
      ['start', 'c1'], ['start', '-a', 'c1'], ['wait', 'c1', 'c2'], ['diff', 'c1'], ['diff', 'c1', 'img'],
      ['commit', 'c1'], ['commit', '-m', 'msg', '-c', 'ENV A=1', '-c', 'CMD ["x"]', 'c1', 'repo:tag'], ['commit', '--pause=false', 'c1'],
      ['export', '-o', 'out.tar', 'c1'], ['cp', '-a', 'src', 'c1:/dst'], ['cp', '-L', 'c1:/x', '/tmp/y'],
      ['rename', 'c1', 'c2'], ['update', '--cpus', '1.5', '-m', '64m', 'c1'], ['update', '--restart=always', 'c1', 'c2'],
      ['container', 'ls', '-a'], ['container', 'ps'], ['container', 'list', '-q'], ['container', 'rm', '-f', 'x'], ['container', 'prune', '-f'],
      ['container', 'prune', '-f', '--filter', 'until=1h'], ['container', 'inspect', '-f', '{{.Id}}', 'c1', 'c2'], ['container', 'stop', 'c1'],
      ['container', 'logs', 'c1'],
    ],
    other: [
      ['ps', '--help'], ['ps', '-h'], ['ps', '--bogus'], ['ps', 'extra'], ['ps', '-a', 'true'], ['ps', '--all', 'false'], ['ps', '--format'],
      ['ps', '--format', '-a'], ['ps', '-n', 'x'], ['ps', '-n'], ['ps', '--format', 'a', '--format', 'b'], ['ps', '-f'], ['ps', '-xq'], ['ps', '--', '-a'],
      ['rm'], ['rm', '-f'], ['rm', '--force', 'false', 'c'], ['rm', '-f=maybe', 'c'], ['diff'], ['diff', 'a', 'b', 'c'], ['rename', 'c1'],
      ['container'], ['container', 'bogus'], ['container', 'run', 'busybox'], ['container', 'exec', 'c', 'ls'], ['run', 'busybox'], ['create', 'busybox'],
      ['ps', '--filter', 'a', 'b'], ['container', 'prune', '--filter', 'x', 'y'], ['rm', '-fq', 'c'], ['cp', 'a'], ['commit', '-m'], ['cp', 'c1:/etc/hosts', '-'],
    ],
  },
  {
    module: 'lifecycle',
    load: () => import('./lifecycle.js'),
    plain: [
      ['logs', 'c1'], ['logs', '-f', 'c1'], ['logs', '--tail', '5', '-t', 'c1'], ['logs', '-n', 'all', 'c1'], ['logs', '--since', '1m', '--until=2m', 'c1'],
      ['stop', 'c1'], ['stop', '-t', '0', 'c1', 'c2'], ['stop', '--time=1', '-s', 'TERM', 'c1'], ['kill', 'c1'], ['kill', '-s', 'HUP', 'c1'],
      ['restart', '-t', '2', 'c1'], ['pause', 'c1'], ['unpause', 'c1', 'c2'], ['stats', '--no-stream'], ['stats', '--no-stream', 'c1'],
      ['stats', '-a', '--no-stream', '--format', '{{.Name}}'], ['port', 'c1'], ['port', 'c1', '80/tcp'], ['attach', 'c1'], ['attach', '--sig-proxy=false', 'c1'],
    ],
    other: [['logs'], ['logs', 'a', 'b'], ['stop', '-t', 'x', 'c'], ['kill'], ['exec', 'c', 'ls'], ['top', 'c'], ['logs', '--tail', '-1', 'c'], ['port']],
  },
  {
    module: 'images',
    load: () => import('./images.js'),
    plain: [
      ['images'], ['images', '-q'], ['images', '-a', '--no-trunc'], ['images', 'busybox'], ['images', '--format', '{{.Repository}}'], ['images', '--filter', 'dangling=true'],
      ['tag', 'a', 'b'], ['rmi', 'a'], ['rmi', '-f', 'a', 'b'], ['history', 'a'], ['history', '--no-trunc', '-q', 'a'], ['history', '-H=false', 'a'],
      ['image', 'ls'], ['image', 'rm', 'x'], ['image', 'inspect', 'x'], ['image', 'prune', '-f'], ['image', 'prune', '-a', '-f'], ['image', 'tag', 'a', 'b'],
    ],
    other: [['tag', 'a'], ['rmi'], ['images', 'a', 'b'], ['image'], ['image', 'bogus'], ['history']],
  },
  {
    module: 'inspect',
    load: () => import('./inspect.js'),
    plain: [['inspect', 'x'], ['inspect', '-f', '{{.Id}}', 'x', 'y'], ['inspect', '--type', 'image', 'x'], ['inspect', '--type=container', '-s', 'x'], ['inspect', '--format={{json .}}', 'x']],
    other: [['inspect'], ['inspect', '--type', 'volume', 'x'], ['inspect', '-f'], ['inspect', '--type', 'image']],
  },
  {
    module: 'networks',
    load: () => import('./networks.js'),
    plain: [
      ['network', 'ls'], ['network', 'ls', '-q'], ['network', 'create', 'n1'], ['network', 'create', '--subnet', '10.9.0.0/24', '--internal', 'n1'],
      ['network', 'create', '--label', 'a=b', '--label', 'c', 'n1'], ['network', 'rm', 'n1', 'n2'], ['network', 'inspect', 'n1'], ['network', 'prune', '-f'],
      ['network', 'connect', 'n1', 'c1'], ['network', 'connect', '--alias', 'web', '--ip', '10.9.0.5', 'n1', 'c1'], ['network', 'disconnect', '-f', 'n1', 'c1'],
    ],
    other: [['network'], ['network', 'create'], ['network', 'connect', 'n1'], ['network', 'bogus']],
  },
  {
    module: 'volumes',
    load: () => import('./volumes.js'),
    plain: [['volume', 'ls'], ['volume', 'ls', '-q'], ['volume', 'create'], ['volume', 'create', 'v1'], ['volume', 'create', '-d', 'local', '--label', 'a=b', 'v1'], ['volume', 'rm', 'v1'], ['volume', 'rm', '-f', 'v1', 'v2'], ['volume', 'inspect', 'v1'], ['volume', 'prune', '-f']],
    other: [['volume'], ['volume', 'rm'], ['volume', 'bogus']],
  },
  {
    module: 'system',
    load: () => import('./system.js'),
    plain: [['version'], ['info'], ['info', '--format', '{{.ID}}'], ['system', 'check'], ['system', 'df'], ['system', 'prune', '-f'], ['system', 'prune', '-a', '-f', '--volumes']],
    other: [['system'], ['system', 'bogus'], ['version', 'x']],
  },
  {
    module: 'archive',
    load: () => import('./archive.js'),
    plain: [['save', 'busybox'], ['save', '-o', 'x.tar', 'a', 'b'], ['save', '--format', 'oci-archive', '-o', 'x.tar', 'a'], ['load', '-i', 'x.tar'], ['load', '-q', '-i', 'x.tar'], ['import', 'x.tar', 'repo:tag']],
    other: [['save', '--format', 'zip', 'a'], ['save'], ['import'], ['import', '-', 'repo'], ['save', '-o', '-', 'a']],
  },
  {
    module: 'events',
    load: () => import('./events.js'),
    plain: [['events', '--since', '1m', '--until', '0s'], ['events', '--stream=false']],
    other: [['events', 'x']],
  },
  {
    module: 'cache',
    load: () => import('./cache.js'),
    plain: [['cache', 'ls'], ['cache', 'prune', '-f']],
    other: [['cache'], ['cache', 'bogus']],
  },
];

describe('plain command lines: parsed without yargs, as yargs parses them', () => {
  after(() => scratch.cleanup());
  for (const c of CASES) {
    it(`${c.module}: every plain line gives the handler what yargs gives it; other lines go to yargs`, async () => {
      const { register } = await c.load();
      for (const line of c.plain) {
        const expected = await viaYargs(register, line);
        assert.equal(expected.error, undefined, `yargs refuses ${line.join(' ')}: ${expected.error}`);
        const got = viaPlain(register, line);
        assert.ok(got, `not parsed plainly: ${line.join(' ')}`);
        assert.deepEqual(got, expected.argv, line.join(' '));
      }
      for (const line of c.other) {
        if (line.includes('--help') || line.includes('-h')) {
          assert.equal(viaPlain(register, line), undefined, `help taken plainly: ${line.join(' ')}`);
          continue;
        }
        const expected = await viaYargs(register, line);
        const got = viaPlain(register, line);
        if (got) {
          // Taken plainly only when yargs takes it, and then alike.
          assert.equal(expected.error, undefined, `plain took what yargs refuses: ${line.join(' ')} (${expected.error})`);
          assert.deepEqual(got, expected.argv, line.join(' '));
        }
      }
    });
  }
});
