// A stage's state while its instructions are applied: the image config being built, the ARGs
// in scope, and the history rows. Metadata instructions only change this state; RUN, COPY, ADD
// and WORKDIR also make a layer (executed later), but their config effect is decided here.
import { isIP } from 'node:net';
import type { ContainerConfig, HealthConfig, HistoryEntry } from '../store/index.js';
import { isDockerSignal } from '../runtime/index.js';
import { PROXY_ARGS } from './args.js';
import { formatDuration, parseGoDuration } from '../duration.js';
import { goQuote, goQuoteList, goQuoteRune } from '../parser/index.js';
import type { Command, HealthcheckCmd } from './instructions.js';
import { processWord } from './shell-words.js';

export const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

export class StageState {
  /** ARGs declared in this stage (in order), with their values. */
  readonly args = new Map<string, string | undefined>();
  /** Set once CMD is given in this stage: ENTRYPOINT then keeps it. */
  cmdSet = false;

  constructor(
    readonly config: ContainerConfig,
    readonly escape: string,
    /** Values of the global ARGs and --build-arg, for `ARG NAME` re-declarations. */
    private readonly globals: ReadonlyMap<string, string | undefined>,
    private readonly buildArgs: Record<string, string>,
  ) {}

  /** Variables for expansion: ARGs in scope, overridden by ENV. */
  vars(): Map<string, string | undefined> {
    const vars = new Map(this.args);
    for (const [k, v] of envEntries(this.config.Env)) vars.set(k, v);
    return vars;
  }

  expand(word: string): string {
    return processWord(word, this.vars(), this.escape).value;
  }

  /** Build args a RUN sees: declared ARGs with a value and not overridden by ENV, plus given proxies. */
  visibleArgs(): Record<string, string> {
    const env = new Set(envEntries(this.config.Env).map(([k]) => k));
    const out: Record<string, string> = {};
    for (const [k, v] of this.args) if (v !== undefined && !env.has(k)) out[k] = v;
    for (const p of PROXY_ARGS) if (p in this.buildArgs && !env.has(p) && !(p in out)) out[p] = this.buildArgs[p];
    return out;
  }

  /** The environment of a RUN: the image's Env plus the visible build args. */
  runEnv(): string[] {
    return [...(this.config.Env ?? []), ...Object.entries(this.visibleArgs()).map(([k, v]) => `${k}=${v}`)];
  }

  /** `|2 A=1 B=2 ` as buildkit prefixes RUN history rows with the stage's ARGs (proxies left out). */
  argsPrefix(): string {
    const env = new Map(envEntries(this.config.Env));
    const parts = [...this.args].filter(([k]) => !PROXY_ARGS.includes(k)).map(([k, v]) => `${k}=${env.get(k) ?? v ?? ''}`);
    return parts.length ? `|${parts.length} ${parts.join(' ')} ` : '';
  }

  shell(): string[] {
    return this.config.Shell?.length ? this.config.Shell : ['/bin/sh', '-c'];
  }

  /**
   * Applies a metadata instruction (everything but RUN/COPY/ADD/FROM) and returns the
   * history text for it. WORKDIR is applied here too (its directory is made by the executor).
   */
  apply(cmd: Command): string {
    const c = this.config;
    switch (cmd.kind) {
      case 'ARG': {
        const shown: string[] = [];
        for (const { key, value } of cmd.args) {
          const dflt = value === undefined ? undefined : this.expand(value);
          const v = key in this.buildArgs ? this.buildArgs[key] : this.globals.has(key) && dflt === undefined ? this.globals.get(key) : dflt;
          this.args.set(key, v);
          shown.push(value === undefined ? key : `${key}=${dflt}`);
        }
        return `ARG ${shown.join(' ')}`;
      }
      case 'ENV': {
        const shown: string[] = [];
        // All values are expanded with the variables as they were before this line.
        const vals = cmd.pairs.map(({ key, value }) => ({ key, value: this.expand(value) }));
        for (const { key, value } of vals) {
          c.Env = setEnv(c.Env ?? [], key, value);
          shown.push(`${key}=${value}`);
        }
        return `ENV ${shown.join(' ')}`;
      }
      case 'LABEL': {
        const shown: string[] = [];
        c.Labels ??= {};
        for (const { key, value } of cmd.pairs) {
          const k = this.expand(key);
          const v = this.expand(value);
          c.Labels[k] = v;
          shown.push(`${k}=${v}`);
        }
        c.Labels = byKey(c.Labels);
        return `LABEL ${shown.join(' ')}`;
      }
      case 'EXPOSE': {
        c.ExposedPorts ??= {};
        const ports = cmd.words.flatMap((w) => this.expand(w).split(/\s+/).filter(Boolean)).flatMap(exposedPorts);
        for (const p of ports) c.ExposedPorts[p] = {};
        c.ExposedPorts = byKey(c.ExposedPorts);
        // BuildKit prints the Go map: each port once, in key order.
        return `EXPOSE map[${[...new Set(ports)].sort().map((p) => `${p}:{}`).join(' ')}]`;
      }
      case 'VOLUME': {
        c.Volumes ??= {};
        const vols = cmd.words.map((w) => this.expand(w)).filter(Boolean);
        for (const v of vols) c.Volumes[v] = {};
        c.Volumes = byKey(c.Volumes);
        return `VOLUME [${vols.join(' ')}]`;
      }
      case 'USER':
        c.User = this.expand(cmd.value);
        return `USER ${c.User}`;
      case 'WORKDIR': {
        const dir = this.expand(cmd.value);
        // Docker and podman keep an absolute WORKDIR as written ("/app/" stays "/app/"); a relative one is joined and cleaned.
        c.WorkingDir = dir.startsWith('/') ? dir : joinWorkdir(c.WorkingDir, dir);
        return `WORKDIR ${c.WorkingDir}`;
      }
      case 'STOPSIGNAL': {
        const signal = this.expand(cmd.value);
        // BuildKit's ParseSignal: what `stop` could not send is refused now.
        if (!isDockerSignal(signal)) throw new Error(`Invalid signal: ${signal}`);
        c.StopSignal = signal;
        return `STOPSIGNAL ${c.StopSignal}`;
      }
      case 'MAINTAINER':
        return `MAINTAINER ${cmd.value}`;
      case 'SHELL':
        c.Shell = [...cmd.args];
        return `SHELL [${cmd.args.join(' ')}]`;
      case 'CMD':
      case 'ENTRYPOINT': {
        const argv = cmd.exec ? [...cmd.args] : [...this.shell(), cmd.args.join(' ')];
        if (cmd.kind === 'CMD') {
          c.Cmd = argv;
          this.cmdSet = true;
        } else {
          c.Entrypoint = argv;
          if (!this.cmdSet) c.Cmd = null;
        }
        // BuildKit's fmt.Sprintf("CMD %q", args): Go's quoting of each word.
        return `${cmd.kind} ${goQuoteList(argv)}`;
      }
      case 'HEALTHCHECK':
        c.Healthcheck = healthConfig(cmd, this.shell());
        return healthcheckHistory(c.Healthcheck);
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), cmd.trigger];
        return `ONBUILD ${cmd.trigger}`;
      default:
        throw new Error(`not a metadata instruction: ${cmd.kind}`);
    }
  }
}

export function envEntries(env: string[] | undefined): [string, string][] {
  return (env ?? []).map((kv) => {
    const eq = kv.indexOf('=');
    return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

function setEnv(env: string[], key: string, value: string): string[] {
  const out = env.filter((kv) => !kv.startsWith(`${key}=`) && kv !== key);
  const at = env.findIndex((kv) => kv.startsWith(`${key}=`) || kv === key);
  if (at < 0) return [...out, `${key}=${value}`];
  const copy = [...env];
  copy[at] = `${key}=${value}`;
  return copy;
}

/**
 * One EXPOSE word as BuildKit parses it (`[ip:][hostPort:]port[-end][/proto]`, its
 * parsePortSpec) and records it: protocol lowercased (tcp by default), a range "8000-8002" as
 * each of its ports. A word BuildKit refuses fails with its message.
 */
export function exposedPorts(word: string): string[] {
  const parts = word.split(':');
  const n = parts.length;
  const ip = n < 3 ? '' : parts.slice(0, n - 2).join(':');
  const hostPort = n < 2 ? '' : parts[n - 2];
  const last = parts[n - 1];
  const slash = last.indexOf('/');
  const port = slash < 0 ? last : last.slice(0, slash);
  const given = slash < 0 ? '' : last.slice(slash + 1);
  const proto = (port ? given || 'tcp' : '').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new Error(`invalid proto: ${proto}`);
  const bareIp = ip.startsWith('[') ? ip.replace(/^\[(.*)\]$/, '$1') : ip;
  if (bareIp && isIP(bareIp) === 0) throw new Error(`invalid IP address: ${ip}`);
  if (!port) throw new Error(`no port specified: ${word}<empty>`);
  const range = portRange(port);
  if (!range) throw new Error(`invalid containerPort: ${port}`);
  if (hostPort) {
    const host = portRange(hostPort);
    if (!host) throw new Error(`invalid hostPort: ${hostPort}`);
    if (range[1] - range[0] !== host[1] - host[0] && range[0] !== range[1]) {
      throw new Error(`invalid ranges specified for container and host Ports: ${port} and ${hostPort}`);
    }
  }
  const out: string[] = [];
  for (let p = range[0]; p <= range[1]; p++) out.push(`${p}/${proto}`);
  return out;
}

/** "80" or "8000-8002" as Go's ParseUint(.., 10, 16) reads them; undefined when invalid. */
function portRange(text: string): [number, number] | undefined {
  const ends = text.split('-');
  if (ends.length > 2 || !ends.every((e) => /^\d+$/.test(e) && Number(e) <= 65535)) return undefined;
  const [start, end] = [Number(ends[0]), Number(ends[ends.length - 1])];
  return end < start ? undefined : [start, end];
}

/** The same map with its keys in order, as Go's encoding/json writes maps (Docker's and podman's configs). */
function byKey<T>(map: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function joinWorkdir(current: string | undefined, dir: string): string {
  const base = current || '/';
  const joined = dir.startsWith('/') ? dir : `${base.replace(/\/$/, '')}/${dir}`;
  const parts: string[] = [];
  for (const p of joined.split('/')) {
    if (!p || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}

/**
 * BuildKit's history text of HEALTHCHECK: fmt's %q of its *HealthcheckConfig (dispatchHealthcheck),
 * each field quoted: the test as a []string, each duration as its Go text, Retries, an int, as a
 * rune literal: HEALTHCHECK &{["CMD-SHELL" "curl -f localhost"] "30s" "3s" "0s" "0s" '\x03'}.
 */
function healthcheckHistory(h: HealthConfig): string {
  const d = (ns: number | undefined) => goQuote(formatDuration(ns ?? 0));
  return `HEALTHCHECK &{${goQuoteList(h.Test ?? [])} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${d(h.StartInterval)} ${goQuoteRune(h.Retries ?? 0)}}`;
}

/** A HEALTHCHECK duration flag as BuildKit's parseOptInterval: empty or 0 is unset, else at least 1ms. */
function healthDuration(text: string | undefined, flag: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  const ns = parseGoDuration(text);
  if (ns === 0) return undefined;
  if (ns < 1e6) throw new Error(`Interval ${goQuote(flag)} cannot be less than ${formatDuration(1e6)}`);
  return ns;
}

function healthConfig(cmd: HealthcheckCmd, shell: string[]): HealthConfig {
  if (cmd.none) return { Test: ['NONE'] };
  const h: HealthConfig = { Test: cmd.exec ? ['CMD', ...cmd.args] : ['CMD-SHELL', cmd.args.join(' ')] };
  void shell;
  const set = (k: keyof HealthConfig, v: number | undefined) => {
    if (v !== undefined) (h as Record<string, unknown>)[k] = v;
  };
  set('Interval', healthDuration(cmd.interval, 'interval'));
  set('Timeout', healthDuration(cmd.timeout, 'timeout'));
  set('StartPeriod', healthDuration(cmd.startPeriod, 'start-period'));
  set('StartInterval', healthDuration(cmd.startInterval, 'start-interval'));
  if (cmd.retries !== undefined && cmd.retries !== '') {
    // BuildKit's strconv.ParseInt(value, 10, 32).
    if (!/^[-+]?\d+$/.test(cmd.retries)) throw new Error(`strconv.ParseInt: parsing "${cmd.retries}": invalid syntax`);
    const n = Number(cmd.retries);
    if (n < -(2 ** 31) || n >= 2 ** 31) throw new Error(`strconv.ParseInt: parsing "${cmd.retries}": value out of range`);
    if (n < 0) throw new Error(`--retries cannot be negative (${n})`);
    if (n > 0) h.Retries = n;
  }
  return h;
}

/** A history row as buildkit writes it (" # buildkit" after an instruction run as an LLB op: RUN, COPY, ADD). */
export function historyRow(createdBy: string, created: string, withLayer: boolean, marked = withLayer): HistoryEntry {
  const row: HistoryEntry = { created, created_by: marked ? `${createdBy} # buildkit` : createdBy, comment: HISTORY_COMMENT };
  if (!withLayer) row.empty_layer = true;
  return row;
}
