// The flags of `run` and `create`, parsed by hand: everything after the image name belongs to
// the container's command (`run busybox ls -h` must not show our help), which yargs cannot
// express per command. Docker's forms: `--name x`, `--name=x`, `-e X`, `-eX`, `-it`, `-dit`.
import fs from 'node:fs';
import { StrataError } from '../errors.js';
import { parseMemoryBytes } from '../runtime/index.js';

type Kind = 'bool' | 'value' | 'list';
interface FlagDef { key: keyof RunFlags; kind: Kind; names: string[]; help: string }

export interface RunFlags {
  name?: string;
  rm: boolean;
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  env: string[];
  envFile: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  entrypoint?: string;
  volume: string[];
  mount: string[];
  volumesFrom: string[];
  memory?: string;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  oomKillDisable: boolean;
  macAddress?: string;
  cpusetMems?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  oomScoreAdj?: string;
  runtime?: string;
  annotation: string[];
  domainname?: string;
  cgroupns?: string;
  userns?: string;
  logDriver?: string;
  logOpt: string[];
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  healthStartInterval?: string;
  noHealthcheck: boolean;
  init: boolean;
  tmpfs: string[];
  device: string[];
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  ulimit: string[];
  network: string[];
  networkAlias: string[];
  ip?: string;
  addHost: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  publish: string[];
  publishAll: boolean;
  restart?: string;
  label: string[];
  labelFile: string[];
  expose: string[];
  stopSignal?: string;
  stopTimeout?: string;
  cidfile?: string;
  shmSize?: string;
  pid?: string;
  ipc?: string;
  uts?: string;
  sysctl: string[];
  cpusetCpus?: string;
  attach: string[];
  groupAdd: string[];
  readOnly: boolean;
  securityOpt: string[];
  detachKeys?: string;
  /** --sig-proxy (default true): the signals we get go to the container; false: they end us only. */
  sigProxy: boolean;
  /** --pull=always|missing|never (default missing). */
  pull?: string;
  platform?: string;
  quiet: boolean;
  help: boolean;
}

export const RUN_FLAGS: FlagDef[] = [
  { key: 'name', kind: 'value', names: ['--name'], help: 'Assign a name to the container' },
  { key: 'rm', kind: 'bool', names: ['--rm'], help: 'Automatically remove the container when it exits' },
  { key: 'interactive', kind: 'bool', names: ['-i', '--interactive'], help: 'Keep STDIN open even if not attached' },
  { key: 'tty', kind: 'bool', names: ['-t', '--tty'], help: 'Allocate a pseudo-TTY' },
  { key: 'detach', kind: 'bool', names: ['-d', '--detach'], help: 'Run container in background and print container ID' },
  { key: 'attach', kind: 'list', names: ['-a', '--attach'], help: 'Attach to STDIN, STDOUT or STDERR' },
  { key: 'env', kind: 'list', names: ['-e', '--env'], help: 'Set environment variables' },
  { key: 'envFile', kind: 'list', names: ['--env-file'], help: 'Read in a file of environment variables' },
  { key: 'workdir', kind: 'value', names: ['-w', '--workdir'], help: 'Working directory inside the container' },
  { key: 'user', kind: 'value', names: ['-u', '--user'], help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { key: 'hostname', kind: 'value', names: ['-h', '--hostname'], help: 'Container host name' },
  { key: 'entrypoint', kind: 'value', names: ['--entrypoint'], help: 'Overwrite the default ENTRYPOINT of the image' },
  { key: 'volume', kind: 'list', names: ['-v', '--volume'], help: 'Bind mount a volume' },
  { key: 'mount', kind: 'list', names: ['--mount'], help: 'Attach a filesystem mount to the container' },
  { key: 'volumesFrom', kind: 'list', names: ['--volumes-from'], help: 'Mount volumes from the specified container(s)' },
  { key: 'memory', kind: 'value', names: ['-m', '--memory'], help: 'Memory limit' },
  { key: 'memorySwap', kind: 'value', names: ['--memory-swap'], help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { key: 'memoryReservation', kind: 'value', names: ['--memory-reservation'], help: 'Memory soft limit' },
  { key: 'memorySwappiness', kind: 'value', names: ['--memory-swappiness'], help: 'Tune container memory swappiness (0 to 100)' },
  { key: 'oomKillDisable', kind: 'bool', names: ['--oom-kill-disable'], help: 'Disable OOM Killer' },
  { key: 'cpus', kind: 'value', names: ['--cpus'], help: 'Number of CPUs' },
  { key: 'cpuShares', kind: 'value', names: ['-c', '--cpu-shares'], help: 'CPU shares (relative weight)' },
  { key: 'pidsLimit', kind: 'value', names: ['--pids-limit'], help: 'Tune container pids limit (set -1 for unlimited)' },
  { key: 'logDriver', kind: 'value', names: ['--log-driver'], help: 'Logging driver for the container (json-file, local, none)' },
  { key: 'logOpt', kind: 'list', names: ['--log-opt'], help: 'Log driver options (max-size=10m, max-file=3)' },
  { key: 'healthCmd', kind: 'value', names: ['--health-cmd'], help: 'Command to run to check health' },
  { key: 'healthInterval', kind: 'value', names: ['--health-interval'], help: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { key: 'healthTimeout', kind: 'value', names: ['--health-timeout'], help: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { key: 'healthRetries', kind: 'value', names: ['--health-retries'], help: 'Consecutive failures needed to report unhealthy' },
  { key: 'healthStartPeriod', kind: 'value', names: ['--health-start-period'], help: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  { key: 'healthStartInterval', kind: 'value', names: ['--health-start-interval'], help: 'Time between running the check during the start period (ms|s|m|h) (default 0s)' },
  { key: 'noHealthcheck', kind: 'bool', names: ['--no-healthcheck'], help: 'Disable any container-specified HEALTHCHECK' },
  { key: 'init', kind: 'bool', names: ['--init'], help: 'Run an init inside the container that forwards signals and reaps processes' },
  { key: 'tmpfs', kind: 'list', names: ['--tmpfs'], help: 'Mount a tmpfs directory' },
  { key: 'device', kind: 'list', names: ['--device'], help: 'Add a host device to the container' },
  { key: 'capAdd', kind: 'list', names: ['--cap-add'], help: 'Add Linux capabilities' },
  { key: 'capDrop', kind: 'list', names: ['--cap-drop'], help: 'Drop Linux capabilities' },
  { key: 'privileged', kind: 'bool', names: ['--privileged'], help: 'Give extended privileges to this container' },
  { key: 'ulimit', kind: 'list', names: ['--ulimit'], help: 'Ulimit options (NAME=SOFT[:HARD], e.g. nofile=1024:2048)' },
  { key: 'network', kind: 'list', names: ['--network', '--net'], help: 'Connect a container to a network (bridge, host, none, container:NAME or a network)' },
  { key: 'networkAlias', kind: 'list', names: ['--network-alias', '--net-alias'], help: 'Add network-scoped alias for the container' },
  { key: 'ip', kind: 'value', names: ['--ip'], help: 'IPv4 address (e.g., 172.30.100.104)' },
  { key: 'macAddress', kind: 'value', names: ['--mac-address'], help: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { key: 'addHost', kind: 'list', names: ['--add-host'], help: 'Add a custom host-to-IP mapping (host:ip)' },
  { key: 'dns', kind: 'list', names: ['--dns'], help: 'Set custom DNS servers' },
  { key: 'dnsSearch', kind: 'list', names: ['--dns-search'], help: 'Set custom DNS search domains' },
  { key: 'dnsOption', kind: 'list', names: ['--dns-option', '--dns-opt'], help: 'Set DNS options' },
  { key: 'publish', kind: 'list', names: ['-p', '--publish'], help: "Publish a container's port(s) to the host" },
  { key: 'publishAll', kind: 'bool', names: ['-P', '--publish-all'], help: 'Publish all exposed ports to random ports' },
  { key: 'restart', kind: 'value', names: ['--restart'], help: 'Restart policy to apply when a container exits' },
  { key: 'label', kind: 'list', names: ['-l', '--label'], help: 'Set meta data on a container' },
  { key: 'labelFile', kind: 'list', names: ['--label-file'], help: 'Read in a line delimited file of labels' },
  { key: 'expose', kind: 'list', names: ['--expose'], help: 'Expose a port or a range of ports' },
  { key: 'stopSignal', kind: 'value', names: ['--stop-signal'], help: 'Signal to stop the container' },
  { key: 'stopTimeout', kind: 'value', names: ['--stop-timeout'], help: 'Timeout (in seconds) to stop a container' },
  { key: 'cidfile', kind: 'value', names: ['--cidfile'], help: 'Write the container ID to the file' },
  { key: 'shmSize', kind: 'value', names: ['--shm-size'], help: 'Size of /dev/shm' },
  { key: 'pid', kind: 'value', names: ['--pid'], help: 'PID namespace to use (host)' },
  { key: 'ipc', kind: 'value', names: ['--ipc'], help: 'IPC mode to use (private, host)' },
  { key: 'uts', kind: 'value', names: ['--uts'], help: 'UTS namespace to use (host)' },
  { key: 'cgroupns', kind: 'value', names: ['--cgroupns'], help: 'Cgroup namespace to use (host|private)' },
  { key: 'userns', kind: 'value', names: ['--userns'], help: 'User namespace to use (host: strata remaps no user IDs)' },
  { key: 'sysctl', kind: 'list', names: ['--sysctl'], help: 'Sysctl options (KEY=VALUE, namespaced ones)' },
  { key: 'cpusetCpus', kind: 'value', names: ['--cpuset-cpus'], help: 'CPUs in which to allow execution (0-3, 0,1)' },
  { key: 'cpusetMems', kind: 'value', names: ['--cpuset-mems'], help: 'MEMs in which to allow execution (0-3, 0,1)' },
  { key: 'cpuPeriod', kind: 'value', names: ['--cpu-period'], help: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { key: 'cpuQuota', kind: 'value', names: ['--cpu-quota'], help: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { key: 'oomScoreAdj', kind: 'value', names: ['--oom-score-adj'], help: "Tune host's OOM preferences (-1000 to 1000)" },
  { key: 'runtime', kind: 'value', names: ['--runtime'], help: 'Runtime to use for this container (runc)' },
  { key: 'annotation', kind: 'list', names: ['--annotation'], help: 'Add an annotation to the container (passed through to the OCI runtime)' },
  { key: 'domainname', kind: 'value', names: ['--domainname'], help: 'Container NIS domain name' },
  { key: 'groupAdd', kind: 'list', names: ['--group-add'], help: 'Add additional groups to join' },
  { key: 'readOnly', kind: 'bool', names: ['--read-only'], help: "Mount the container's root filesystem as read only" },
  { key: 'securityOpt', kind: 'list', names: ['--security-opt'], help: 'Security Options (seccomp=unconfined, no-new-privileges, systempaths=unconfined)' },
  { key: 'detachKeys', kind: 'value', names: ['--detach-keys'], help: 'Override the key sequence for detaching a container' },
  { key: 'sigProxy', kind: 'bool', names: ['--sig-proxy'], help: 'Proxy received signals to the process (default true; --sig-proxy=false to not)' },
  { key: 'pull', kind: 'value', names: ['--pull'], help: 'Pull image before running (always|missing|never)' },
  { key: 'platform', kind: 'value', names: ['--platform'], help: 'Set platform if server is multi-platform capable' },
  { key: 'quiet', kind: 'bool', names: ['-q', '--quiet'], help: 'Suppress the pull output' },
  { key: 'help', kind: 'bool', names: ['--help'], help: 'Show help' },
];

function emptyFlags(): RunFlags {
  return {
    rm: false, interactive: false, tty: false, detach: false, env: [], envFile: [], volume: [], mount: [], ulimit: [],
    init: false, oomKillDisable: false, noHealthcheck: false, logOpt: [], annotation: [], tmpfs: [], device: [], capAdd: [], capDrop: [], privileged: false,
    volumesFrom: [], network: [], networkAlias: [], addHost: [], dns: [], dnsSearch: [], dnsOption: [], publish: [], publishAll: false, label: [], labelFile: [], expose: [], sysctl: [], attach: [], groupAdd: [], readOnly: false, securityOpt: [], sigProxy: true, quiet: false, help: false,
  };
}

/** Go's strconv.ParseBool, as pflag reads `--flag=VALUE` for a boolean flag. */
function parseBool(def: FlagDef, value: string): boolean {
  if (/^(1|t|T|TRUE|true|True)$/.test(value)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(value)) return false;
  throw new StrataError(`invalid argument "${value}" for "${def.names.join(', ')}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`);
}

function set(flags: RunFlags, def: FlagDef, value: string | true): void {
  const f = flags as unknown as Record<string, unknown>;
  if (def.kind === 'bool') f[def.key] = value === true || parseBool(def, value);
  else if (def.kind === 'list') (f[def.key] as string[]).push(value as string);
  else f[def.key] = value;
}

function find(name: string): FlagDef {
  const def = RUN_FLAGS.find((d) => d.names.includes(name));
  if (!def) throw new StrataError(`unknown flag: ${name}`);
  return def;
}

/** Splits `[OPTIONS] IMAGE [COMMAND] [ARG...]`. */
export function parseRunArgs(argv: string[]): { flags: RunFlags; image?: string; command: string[] } {
  const flags = emptyFlags();
  let i = 0;
  const next = (name: string): string => {
    if (i >= argv.length) throw new StrataError(`flag needs an argument: ${name}`);
    return argv[i++]!;
  };
  while (i < argv.length) {
    const arg = argv[i++]!;
    if (arg === '--') break;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const def = find(eq < 0 ? arg : arg.slice(0, eq));
      set(flags, def, eq >= 0 ? arg.slice(eq + 1) : def.kind === 'bool' ? true : next(arg));
    } else if (arg.startsWith('-') && arg.length > 1) {
      // -it, -dit, -eFOO=bar, -e FOO
      for (let j = 1; j < arg.length; j++) {
        const def = find(`-${arg[j]}`);
        if (def.kind === 'bool') {
          set(flags, def, true);
          continue;
        }
        const rest = arg.slice(j + 1).replace(/^=/, '');
        set(flags, def, rest !== '' ? rest : next(`-${arg[j]}`));
        break;
      }
    } else {
      return { flags, image: arg, command: argv.slice(i) };
    }
  }
  const image = argv[i];
  return { flags, image, command: image === undefined ? [] : argv.slice(i + 1) };
}

/** The lines of an --env-file or --label-file: blank lines and # comments skipped. */
function fileLines(file: string, what: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new StrataError(`reading ${what} file "${file}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  return text.split(/\r?\n/).map((l) => l.replace(/^\s+/, '')).filter((l) => l !== '' && !l.startsWith('#'));
}

/** `--label-file`s' labels, then the `-l`s (a later one wins, as Docker's). */
export function labelsFromFlags(labels: string[], labelFiles: string[]): string[] {
  return [...labelFiles.flatMap((f) => fileLines(f, 'label')), ...labels];
}

/** `--expose 80`, `80/udp`, `8000-8002`: ExposedPorts keys. */
export function exposedPorts(specs: string[]): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(spec);
    const [lo, hi] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [0, -1];
    if (!m || lo < 1 || hi > 65535 || hi < lo) throw new StrataError(`invalid range format for --expose: "${spec}"`);
    for (let p = lo; p <= hi; p++) out.push(`${p}/${m[3] ?? 'tcp'}`);
  }
  return out;
}

/** Docker's `-e` rules: `K=V` as is, `K` alone takes the value from our environment (or is dropped). */
export function envFromFlags(env: string[], envFiles: string[], host: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const add = (entry: string) => {
    if (entry.includes('=')) {
      if (entry.startsWith('=')) throw new StrataError(`invalid environment variable: ${entry}`);
      out.push(entry);
    } else if (host[entry] !== undefined) out.push(`${entry}=${host[entry]}`);
  };
  for (const file of envFiles) for (const line of fileLines(file, 'env')) add(line);
  for (const e of env) add(e);
  return out;
}

/** `-m`: bytes, at least Docker's 6MB. */
export function parseMemory(text: string): number {
  const bytes = parseMemoryBytes('--memory', text);
  if (bytes < 6 * 1024 * 1024) throw new StrataError('minimum memory limit allowed is 6MB');
  return bytes;
}

/** `--shm-size`: bytes, more than none (Docker: "SHM size can not be less than 0"). */
export function parseShmSize(text: string): number {
  const bytes = parseMemoryBytes('--shm-size', text);
  if (bytes <= 0) throw new StrataError(`invalid --shm-size "${text}": must be more than 0`);
  return bytes;
}

export function runUsage(command: 'run' | 'create'): string {
  const what = command === 'run' ? 'Create and run a new container from an image' : 'Create a new container';
  const lines = RUN_FLAGS.map((d) => `  ${d.names.join(', ').padEnd(26)}${d.help}`);
  return `Usage: strata ${command} [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n${what}\n\nOptions:\n${lines.join('\n')}\n`;
}
