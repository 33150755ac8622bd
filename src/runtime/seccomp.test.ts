import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { configHasX32, kernelHasX32 } from './kernel-abi.js';
import { DEFAULT_CAPABILITIES } from './spec.js';
import { translateProfile } from './seccomp.js';

const profile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [] },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
    { names: ['mount', 'unshare'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['chown'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_CHOWN'] } },
    { names: ['kexec_load'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_BOOT'] } },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
    { names: ['newcall'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '99.0' } },
  ],
};

describe('seccomp profile translation', () => {
  it("keeps the rules for this architecture and Docker's capability set, as moby does", () => {
    const out = translateProfile(profile, DEFAULT_CAPABILITIES, 'x64');
    assert.deepEqual(out.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    assert.equal(out.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(out.defaultErrnoRet, 38);
    const names = out.syscalls.flatMap((s) => s.names);
    assert.deepEqual(names, ['read', 'write', 'arch_prctl', 'chown', 'kexec_load', 'personality']);
    assert.ok(!names.includes('mount') && !names.includes('unshare'), 'CAP_SYS_ADMIN-only calls stay denied');
    assert.deepEqual(out.syscalls.find((s) => s.names[0] === 'kexec_load'), { names: ['kexec_load'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 });
    assert.deepEqual(out.syscalls.find((s) => s.names[0] === 'personality')?.args, [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }]);
  });
  it('picks the arm rules on arm64', () => {
    const names = translateProfile(profile, DEFAULT_CAPABILITIES, 'arm64').syscalls.flatMap((s) => s.names);
    assert.ok(names.includes('set_tls') && !names.includes('arch_prctl'));
  });
});

describe('the x32 ABI', () => {
  it('is left out of the architectures for a kernel without it, kept otherwise', () => {
    assert.deepEqual(translateProfile(profile, DEFAULT_CAPABILITIES, 'x64', { x32: false }).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    assert.deepEqual(translateProfile(profile, DEFAULT_CAPABILITIES, 'x64', { x32: true }).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });
  it("is told from the kernel's configuration", () => {
    assert.equal(configHasX32('CONFIG_X86_64=y\n# CONFIG_X86_X32_ABI is not set\nCONFIG_IA32_EMULATION=y\n'), false);
    assert.equal(configHasX32('CONFIG_X86_64=y\n# CONFIG_X86_X32 is not set\n'), false);
    assert.equal(configHasX32('CONFIG_X86_64=y\nCONFIG_X86_X32_ABI=y\n'), true);
    assert.equal(configHasX32(''), true);
  });
  it('keeps the answer for the running kernel, and asks again for another release', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-kernel-abi-'));
    try {
      const file = path.join(dir, 'run', 'kernel-abi');
      fs.mkdirSync(path.dirname(file));
      fs.writeFileSync(file, `${os.release()} x32=0\n`);
      assert.equal(kernelHasX32(file), false);
      const other = path.join(dir, 'other');
      fs.writeFileSync(other, 'not-this-release x32=0\n');
      const fresh = kernelHasX32(other);
      const written = fs.readFileSync(other, 'utf8');
      // Rewritten from this kernel's configuration when it has one, else left (x32 assumed).
      if (written.startsWith(os.release())) assert.equal(written, `${os.release()} x32=${fresh ? 1 : 0}\n`);
      else assert.equal(fresh, true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
