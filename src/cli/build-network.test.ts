// The network of a build's RUN steps, as BuildKit's: the host's by default, `RUN --network=
// none|host|default` per step, and `build --network` for the steps that say default (or
// nothing). Each RUN records the network namespace it ran in (compared with the test's own, never
// the host's interface list, which other tests change meanwhile) and what it could reach: the
// test's own "outside" namespace, never an address off the machine.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rootIdentity } from '../runtime/index.js';
import { tempDir } from '../testing/cli.js';
import { startOutside, type Outside } from '../testing/outside.js';
import { eventually, lifecycleFixture, type LifecycleFixture } from '../testing/lifecycle-fixture.js';

let fx: LifecycleFixture;
let outside: Outside;
let ctx: { dir: string; cleanup: () => void };
const hostNs = fs.readlinkSync('/proc/self/ns/net');

/** A step that writes, under /out/NAME, its namespace, its interfaces, its default route and what it fetched from the outside. */
function probe(name: string, flag = ''): string {
  return `RUN ${flag} mkdir -p /out/${name} && readlink /proc/self/ns/net > /out/${name}/ns && ls /sys/class/net > /out/${name}/links `
    + `&& (ip -4 route show default > /out/${name}/route || :) && (timeout 5 wget -qO /out/${name}/fetched http://${outside.ip}:${outside.httpPort}/ || :)`;
}

interface Seen { ns: string; links: string[]; route: string; fetched: string }

const STEPS = ['plain', 'none', 'host', 'default'] as const;

/** What every step of IMAGE recorded, read in one container. */
function seenAll(image: string): Record<(typeof STEPS)[number], Seen> {
  const script = STEPS.map((name) => `cd /out/${name} && cat ns && echo --- && cat links && echo --- && cat route && echo --- && (cat fetched 2>/dev/null || :); echo ===`).join('; ');
  const r = fx.strata(['run', '--rm', '--network', 'none', image, 'sh', '-c', script]);
  assert.equal(r.status, 0, r.stderr);
  const parts = r.stdout.split('===\n');
  return Object.fromEntries(STEPS.map((name, i) => {
    const [ns, links, route, fetched] = parts[i]!.split('---\n').map((s) => s.trim());
    return [name, { ns: ns!, links: links!.split(/\s+/).filter(Boolean), route: route!, fetched: fetched! }];
  })) as Record<(typeof STEPS)[number], Seen>;
}

function build(tag: string, extra: string[] = []): void {
  const r = fx.strata(['build', '--no-cache', '-q', '-t', tag, ...extra, ctx.dir]);
  assert.equal(r.status, 0, r.stderr);
}

describe('build: the network of RUN steps', { timeout: 300_000 }, () => {
  before(async () => {
    fx = await lifecycleFixture();
    outside = await startOutside();
    ctx = tempDir('strata-build-net-');
    fs.writeFileSync(path.join(ctx.dir, 'Dockerfile'), ['FROM busybox', probe('plain'), probe('none', '--network=none'), probe('host', '--network=host'), probe('default', '--network=default'), ''].join('\n'));
  });
  after(async () => {
    outside?.stop();
    ctx?.cleanup();
    await fx?.teardown();
  });

  it('runs steps in the host network by default; --network=none has only loopback', () => {
    build('net-host');
    const steps = seenAll('net-host');
    for (const step of ['plain', 'host', 'default'] as const) {
      const s = steps[step];
      assert.equal(s.ns, hostNs, `${step}: the host's network namespace`);
      assert.equal(s.fetched, 'hello from outside', `${step}: reaches the outside`);
    }
    const none = steps.none;
    assert.notEqual(none.ns, hostNs);
    assert.deepEqual(none.links, ['lo']);
    assert.equal(none.route, '');
    assert.equal(none.fetched, '');
  });

  it('puts steps on the default bridge network with build --network=default, and leaves no veth behind', async () => {
    build('net-default', ['--network', 'default']);
    const gateway = (JSON.parse(fx.strata(['network', 'inspect', '--format', '{{json .IPAM.Config}}', 'bridge']).stdout) as Array<{ Gateway: string }>)[0]!.Gateway;
    const steps = seenAll('net-default');
    for (const step of ['plain', 'default'] as const) {
      const s = steps[step];
      assert.notEqual(s.ns, hostNs, `${step}: a namespace of its own`);
      assert.deepEqual(s.links, ['eth0', 'lo'], step);
      assert.match(s.route, new RegExp(`^default via ${gateway.replace(/\./g, '\\.')} dev eth0`), step);
      assert.equal(s.fetched, 'hello from outside', `${step}: reaches the outside through NAT`);
    }
    assert.equal(steps.host.ns, hostNs, 'RUN --network=host still has the host\'s');
    assert.deepEqual(steps.none.links, ['lo']);
    const id = rootIdentity(fx.root).id;
    const veths = () => fs.readdirSync('/sys/class/net').filter((d) => d.startsWith(`sv${id}`));
    await eventually(() => veths().length === 0, 50).catch(() => undefined);
    assert.deepEqual(veths(), []);
  });

  it('refuses an unknown network mode in one line', () => {
    const flag = fx.strata(['build', '--network', 'bogus', ctx.dir]);
    assert.equal(flag.status, 125);
    assert.match(flag.stderr, /^Error: invalid network mode "bogus": expected default, host or none\n$/);
    const bad = tempDir('strata-build-net-bad-');
    try {
      fs.writeFileSync(path.join(bad.dir, 'Dockerfile'), 'FROM busybox\nRUN --network=bogus true\n');
      const step = fx.strata(['build', bad.dir]);
      assert.notEqual(step.status, 0);
      assert.match(step.stderr, /Dockerfile:2: unsupported network mode for RUN: "bogus"/);
      assert.doesNotMatch(step.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      bad.cleanup();
    }
  });
});
