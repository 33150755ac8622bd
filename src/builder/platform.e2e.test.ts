// `build --platform`: an arm64 image built on this machine with RUN steps under qemu-user-static
// (binfmt_misc, F flag), and `--platform a,b` giving one image per platform, written as an
// index by `-o type=oci`. The arm64 base is made here from Debian's busybox-static:arm64
// binary (scripts/setup.sh puts it in /usr/local/lib/strata/busybox.arm64). The checks of the
// emulator's registration run against a binfmt_misc-like directory the test makes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar';
import { registryAvailable, startRegistry } from '../registry/testing/registry-server.js';
import { buildBusyboxRootfs } from '../store/busybox.js';
import { ensureBusybox } from '../testing/busybox.js';
import { openStore } from '../store/store.js';
import { runStrata, tempDir } from '../testing/cli.js';
import { ensureEmulation, needsEmulation, parsePlatform } from './emulation.js';

const ARM64_BUSYBOX = process.env.STRATA_TEST_BUSYBOX_ARM64 ?? '/usr/local/lib/strata/busybox.arm64';
const qemu = fs.existsSync('/usr/lib/binfmt.d/qemu-aarch64.conf');
const skip = !qemu ? 'qemu-user-static is not installed' : !fs.existsSync(ARM64_BUSYBOX) ? `no arm64 busybox at ${ARM64_BUSYBOX} (scripts/setup.sh)` : process.getuid?.() !== 0 ? 'needs root' : false;

describe('emulation checks (binfmt_misc)', () => {
  let t: ReturnType<typeof tempDir>;
  before(() => {
    t = tempDir('strata-binfmt-');
  });
  after(() => t.cleanup());

  /** A directory shaped as binfmt_misc: a register file and, optionally, an entry. */
  function binfmt(entry?: string): string {
    const dir = fs.mkdtempSync(path.join(t.dir, 'binfmt-'));
    fs.writeFileSync(path.join(dir, 'register'), '');
    if (entry !== undefined) fs.writeFileSync(path.join(dir, 'qemu-aarch64'), entry);
    return dir;
  }
  const arm64 = { os: 'linux', architecture: 'arm64' };
  const host = { os: 'linux', architecture: 'amd64' };

  it('needs nothing for the host platform (nor i386 on amd64)', async () => {
    assert.equal(needsEmulation({ os: 'linux', architecture: '386' }, host), false);
    assert.equal(needsEmulation(arm64, host), true);
    await ensureEmulation(host, { host, binfmtDir: '/nonexistent' });
  });

  it('accepts a registered entry with F, refuses one without F or disabled, in one line', async () => {
    await ensureEmulation(arm64, { host, binfmtDir: binfmt('enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\n') });
    await assert.rejects(ensureEmulation(arm64, { host, binfmtDir: binfmt('enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: OC\n') }), /^StrataError: cannot build for linux\/arm64: the binfmt_misc entry qemu-aarch64 has no F flag/);
    await assert.rejects(ensureEmulation(arm64, { host, binfmtDir: binfmt('disabled\nflags: F\n') }), /qemu-aarch64 is disabled/);
  });

  it('registers an absent entry from the distribution\'s, with F added; says to install qemu-user-static when there is none', async () => {
    const conf = fs.mkdtempSync(path.join(t.dir, 'conf-'));
    fs.writeFileSync(path.join(conf, 'qemu-aarch64.conf'), ':qemu-aarch64:M::\\x7fELF:\\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OP\n');
    const dir = binfmt();
    // The fake register file does not create the entry: the write is seen, then reported.
    await assert.rejects(ensureEmulation(arm64, { host, binfmtDir: dir, confDir: conf }), /registering the qemu-aarch64 binfmt_misc entry failed|qemu-aarch64/);
    assert.equal(fs.readFileSync(path.join(dir, 'register'), 'utf8'), ':qemu-aarch64:M::\\x7fELF:\\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF');
    await assert.rejects(ensureEmulation(arm64, { host, binfmtDir: binfmt(), confDir: fs.mkdtempSync(path.join(t.dir, 'empty-')) }), /^StrataError: cannot build for linux\/arm64: no qemu emulator for arm64 is installed \(apt-get install qemu-user-static\)$/);
    await assert.rejects(ensureEmulation({ os: 'linux', architecture: 'vax' }, { host }), /no emulator is known for the architecture "vax"/);
  });

  it('parses --platform values', () => {
    assert.deepEqual(parsePlatform('linux/arm64'), arm64);
    assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
    assert.deepEqual(parsePlatform('linux/x86_64'), host);
    assert.throws(() => parsePlatform('arm64'), /invalid platform "arm64": expected os\/arch/);
  });
});

describe('build --platform (qemu-user-static)', { skip }, () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;

  before(async () => {
    t = tempDir('strata-platform-');
    root = path.join(t.dir, 'root');
    const store = await openStore(root);
    const busybox = await ensureBusybox(store);
    // The arm64 base: Debian's arm64 busybox (listing its applets runs it, under qemu).
    await ensureEmulation({ os: 'linux', architecture: 'arm64' });
    const rootfs = path.join(t.dir, 'rootfs-arm64');
    fs.mkdirSync(rootfs);
    await buildBusyboxRootfs(rootfs, ARM64_BUSYBOX);
    const file = path.join(t.dir, 'busybox-arm64.tar');
    await tar.c({ file, cwd: rootfs }, fs.readdirSync(rootfs));
    const imported = runStrata(['import', '--platform', 'linux/arm64', '-c', 'CMD ["sh"]', file, 'busybox-arm64'], { root });
    assert.equal(imported.status, 0, imported.stderr);
    await store.tag(busybox.id, 'busybox-amd64');
  });
  after(() => t.cleanup());

  const ctx = (dockerfile: string) => {
    const dir = fs.mkdtempSync(path.join(t.dir, 'ctx-'));
    fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
    return dir;
  };
  const inspect = (ref: string) => JSON.parse(runStrata(['image', 'inspect', ref], { root }).stdout)[0] as { Architecture: string; Os: string };

  it('builds an arm64 image whose RUN steps ran as arm64', () => {
    const r = runStrata(['build', '--platform', 'linux/arm64', '-t', 'a64', ctx('FROM busybox-arm64\nARG TARGETARCH\nRUN uname -m > /arch && echo "$TARGETARCH" >> /arch\n')], { root });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(inspect('a64').Architecture, 'arm64');
    const ran = runStrata(['run', '--rm', 'a64', 'cat', '/arch'], { root });
    assert.equal(ran.stdout, 'aarch64\narm64\n');
    // The same Dockerfile for the host is another build (another key), not a cache hit of this one.
    const amd = runStrata(['build', '--progress=plain', '-t', 'a64-host', ctx('FROM busybox-arm64\nARG TARGETARCH\nRUN uname -m > /arch && echo "$TARGETARCH" >> /arch\n')], { root });
    assert.match(amd.stderr, /base image busybox-arm64 is linux\/arm64, not linux\/amd64/);
  });

  it('builds a FROM --platform=$BUILDPLATFORM stage natively, for the target\'s TARGETARCH (cross-compiling)', () => {
    const dockerfile = [
      'FROM --platform=$BUILDPLATFORM busybox-amd64 AS build',
      'ARG TARGETARCH',
      'RUN uname -m > /built-on && echo "$TARGETARCH" > /for',
      'FROM busybox-${TARGETARCH}',
      'COPY --from=build /built-on /for /',
      'RUN uname -m > /final-on',
      '',
    ].join('\n');
    const r = runStrata(['build', '--platform', 'linux/arm64', '-t', 'cross', ctx(dockerfile)], { root });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Warning/);
    assert.equal(inspect('cross').Architecture, 'arm64');
    assert.equal(runStrata(['run', '--rm', 'cross', 'cat', '/built-on', '/for', '/final-on'], { root }).stdout, 'x86_64\narm64\naarch64\n');
    // A stage for another platform in a host build runs under qemu.
    const other = runStrata(['build', '-t', 'one-arm-stage', ctx('FROM --platform=linux/arm64 busybox-arm64 AS a\nRUN uname -m > /m\nFROM busybox\nCOPY --from=a /m /m\n')], { root });
    assert.equal(other.status, 0, other.stderr);
    assert.equal(runStrata(['run', '--rm', 'one-arm-stage', 'cat', '/m'], { root }).stdout, 'aarch64\n');
  });

  it('--platform a,b builds one image per platform: the tag names the host\'s, -o type=oci holds both', () => {
    const oci = path.join(t.dir, 'multi.tar');
    const r = runStrata(['build', '--platform', 'linux/amd64,linux/arm64', '-t', 'multi', '-o', `type=oci,dest=${oci}`, ctx('FROM busybox-${TARGETARCH}\nRUN uname -m > /arch\n')], { root });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(inspect('multi').Architecture, 'amd64');
    assert.match(r.stderr, /^linux\/arm64: image sha256:[0-9a-f]{64}$/m);
    const out = path.join(t.dir, 'multi-x');
    fs.mkdirSync(out);
    execFileSync('tar', ['-xf', oci, '-C', out]);
    const index = JSON.parse(fs.readFileSync(path.join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(index.manifests.length, 2);
    const archs = index.manifests.map((m) => {
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'blobs', 'sha256', m.digest.slice(7)), 'utf8')) as { config: { digest: string } };
      return (JSON.parse(fs.readFileSync(path.join(out, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8')) as { architecture: string }).architecture;
    }).sort();
    assert.deepEqual(archs, ['amd64', 'arm64']);
  });

  it('--platform a,b over a multi-platform base in a registry: each platform\'s base is pulled, the name stays on the host\'s', { skip: registryAvailable ? false : 'docker-registry is not installed' }, async () => {
    const reg = await startRegistry();
    try {
      const base = `${reg.host}/lib/bb:1`;
      assert.equal(runStrata(['tag', 'busybox-amd64', base], { root }).status, 0);
      const pushed = runStrata(['push', '--index-of', 'busybox-amd64', '--index-of', 'busybox-arm64', base], { root });
      assert.equal(pushed.status, 0, pushed.stderr);
      const fresh = path.join(t.dir, 'fresh');
      const meta = path.join(t.dir, 'meta.json');
      // What `cat /arch` printed in each image: the second order may give the same images (same
      // keys, cached), whose content-addressed IDs need no second container.
      const arch = new Map<string, string>();
      for (const order of ['linux/arm64,linux/amd64', 'linux/amd64,linux/arm64']) {
        const r = runStrata(['build', '--platform', order, '--metadata-file', meta, ctx(`FROM ${base}\nRUN uname -m > /arch\n`)], { root: fresh });
        assert.equal(r.status, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /\[Warning\].*base image/);
        const platforms = (JSON.parse(fs.readFileSync(meta, 'utf8')) as { platforms: { platform: string; imageId: string }[] }).platforms;
        for (const p of platforms) {
          if (!arch.has(p.imageId)) arch.set(p.imageId, runStrata(['run', '--rm', p.imageId, 'cat', '/arch'], { root: fresh }).stdout);
          assert.equal(arch.get(p.imageId), p.platform === 'linux/arm64' ? 'aarch64\n' : 'x86_64\n', `${order}: ${p.platform}`);
        }
        // The name's image, read from the store here (no inspect process per order).
        const named = (await (await openStore(fresh)).resolveImage(base)).config;
        assert.equal(named.architecture, 'amd64', `${order}: the name stays on the host's platform`);
      }
    } finally {
      await reg.close();
    }
  });

  it('--platform a,b with --push sends an index of both', { skip: registryAvailable ? false : 'docker-registry is not installed' }, async () => {
    const reg = await startRegistry();
    try {
      const name = `${reg.host}/multi/app:v1`;
      const r = runStrata(['build', '-q', '--platform', 'linux/amd64,linux/arm64', '-t', name, '--push', ctx('FROM busybox-${TARGETARCH}\nRUN echo pushed > /p\n')], { root });
      assert.equal(r.status, 0, r.stderr);
      const raw = JSON.parse(execFileSync('curl', ['-sf', '-H', 'Accept: application/vnd.oci.image.index.v1+json', `${reg.url}/v2/multi/app/manifests/v1`]).toString()) as { manifests: { platform?: { architecture: string } }[] };
      assert.deepEqual(raw.manifests.map((m) => m.platform?.architecture).sort(), ['amd64', 'arm64']);
    } finally {
      await reg.close();
    }
  });
});
