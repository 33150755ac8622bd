// Whether this kernel runs x32 programs (the x86_64 ABI with 32-bit pointers). Docker's seccomp
// profile lists x32 as a sub-architecture of x86_64 beside i386, so that runc's filter allows
// their system calls too; on a kernel built without x32 (CONFIG_X86_X32_ABI unset, as Fedora's,
// Ubuntu's and Arch's) no process can make one, yet the third architecture costs every container
// start some 5 ms of CPU in runc's init, compiling the filter for x86_64, i386 and x32 together.
// The answer comes from the kernel's build configuration, /boot/config-RELEASE or
// /proc/config.gz (~3 ms to load zlib and gunzip it), and is kept in /run (a tmpfs: it lasts one
// boot). When the configuration cannot be read, x32 is assumed, as Docker does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const KERNEL_ABI_FILE = '/run/strata/kernel-abi';

/** x32 support by a kernel's .config text: false only when it says the option is not set. */
export function configHasX32(config: string): boolean {
  return !/^# CONFIG_X86_X32(_ABI)? is not set$/m.test(config);
}

function readKernelConfig(): string | undefined {
  try {
    return fs.readFileSync(`/boot/config-${os.release()}`, 'latin1');
  } catch {
    // not installed: the running kernel's own copy, if it keeps one
  }
  try {
    const gz = fs.readFileSync('/proc/config.gz');
    return process.getBuiltinModule('node:zlib').gunzipSync(gz).toString('latin1');
  } catch {
    return undefined;
  }
}

/** Best effort: without a kept answer, the next start reads the configuration again. */
function keep(file: string, text: string): void {
  const staging = `${file}.tmp-${process.pid}`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(staging, text);
    fs.renameSync(staging, file);
  } catch {
    fs.rmSync(staging, { force: true });
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'latin1').trim();
  } catch {
    return '';
  }
}

const memo = new Map<string, boolean>();

/** Whether the running kernel may run x32 programs (true when that cannot be told). */
export function kernelHasX32(file = KERNEL_ABI_FILE): boolean {
  const known = memo.get(file);
  if (known !== undefined) return known;
  // "RELEASE x32=0|1": a kernel booted since (a new /run) or another release asks again.
  const release = os.release();
  const kept = /^(\S+) x32=([01])$/.exec(readText(file));
  let answer: boolean;
  if (kept && kept[1] === release) {
    answer = kept[2] === '1';
  } else {
    const config = readKernelConfig();
    answer = config === undefined || configHasX32(config);
    if (config !== undefined) keep(file, `${release} x32=${answer ? 1 : 0}\n`);
  }
  memo.set(file, answer);
  return answer;
}
