import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Image } from '../store/types.js';
import { buildRecord, entrypointAndCmd, mergeEnv, startEnv, type CreateOptions } from './container.js';

function image(config: Image['config']['config']): Image {
  return {
    id: `sha256:${'a'.repeat(64)}`, manifestDigest: `sha256:${'b'.repeat(64)}`, names: [], size: 0,
    manifest: { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: '', digest: '', size: 0 }, layers: [] },
    config: { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [] }, history: [] },
  };
}

function options(over: Partial<CreateOptions>): CreateOptions {
  return {
    image: image({}), imageRef: 'img', name: 'c', command: [], env: [], tty: false, openStdin: false, autoRemove: false,
    readonlyRootfs: false, network: { mode: 'none', networks: {}, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [] }, groupAdd: [], securityOpt: [], labels: {}, binds: [], mounts: [], ...over,
  };
}

describe("Docker's Entrypoint and Cmd rules", () => {
  const img = image({ Entrypoint: ['/entry'], Cmd: ['default'] });
  it('runs the image Entrypoint with its Cmd, or with the given command', () => {
    assert.deepEqual(entrypointAndCmd(img, [], undefined), { entrypoint: ['/entry'], cmd: ['default'] });
    assert.deepEqual(entrypointAndCmd(img, ['x', 'y'], undefined), { entrypoint: ['/entry'], cmd: ['x', 'y'] });
  });
  it('drops the image Cmd when --entrypoint is given, and the Entrypoint with --entrypoint ""', () => {
    assert.deepEqual(entrypointAndCmd(img, [], 'sh'), { entrypoint: ['sh'], cmd: null });
    assert.deepEqual(entrypointAndCmd(img, ['ls'], ''), { entrypoint: null, cmd: ['ls'] });
  });
  it('refuses a container with nothing to run', () => {
    assert.throws(() => buildRecord(options({ entrypoint: '' })), /no command specified/);
  });
});

describe('container environment and config', () => {
  it('replaces image variables by key and keeps their order', () => {
    assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1', 'B=2'], ['A=9', 'C=3']), ['PATH=/bin', 'A=9', 'B=2', 'C=3']);
  });
  it('starts with PATH, HOSTNAME and TERM (with -t) under the configured Env', () => {
    const record = buildRecord(options({ image: image({ Env: ['PATH=/custom', 'X=1'], Cmd: ['sh'] }), env: ['Y=2'], tty: true, hostname: 'h' }));
    assert.deepEqual(startEnv(record), ['PATH=/custom', 'HOSTNAME=h', 'TERM=xterm', 'X=1', 'Y=2']);
  });
  it('takes WorkingDir and User from the image unless given, and refuses a relative -w', () => {
    const img = image({ WorkingDir: '/app', User: 'nobody', Cmd: ['sh'] });
    assert.equal(buildRecord(options({ image: img })).Config.WorkingDir, '/app');
    assert.equal(buildRecord(options({ image: img, workdir: '/w', user: '0' })).Config.User, '0');
    assert.throws(() => buildRecord(options({ image: img, workdir: 'rel' })), /needs to be an absolute path/);
  });
  it('gives a 64-hex ID and the first 12 as hostname', () => {
    const record = buildRecord(options({ command: ['true'] }));
    assert.match(record.Id, /^[0-9a-f]{64}$/);
    assert.equal(record.Config.Hostname, record.Id.slice(0, 12));
    assert.equal(record.Path, 'true');
  });
});
