// Network records and their endpoints, in the state root:
//   networks/<id>/network.json           what `network inspect` shows (Docker's shape) + strata's own
//   networks/<id>/endpoints/<ctr>.json    one per container attached right now (its address, names)
//   networks/lock                         held for read-modify-write: names, addresses
// Endpoints are runtime state: written when a container starts, removed when it stops; one whose
// owner process and veth are both gone (a kill -9) is stale and swept by the next allocation.
// A removal renames networks/<id> to networks/.removing-<id>, then deletes it, both under the
// lock: one seen by a holder of the lock was left by a killed remover (killedLeftovers).
// Records are replaced through temp files named after their writer (`.tmp-PID.START-*`,
// fsutil.ts tempName): a killed writer's are swept with the store's other temps (tempDirs).
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, StrataError } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { randomBytes } from '../random.js';
import { tempName } from './fsutil.js';
import { withLock } from './lock.js';
import { removeTreeSync } from './remove-tree.js';

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge';
  EnableIPv6: false;
  IPAM: { Driver: 'default'; Options: Record<string, string>; Config: Array<{ Subnet: string; IPRange?: string; Gateway: string }> };
  Internal: boolean;
  Attachable: boolean;
  Ingress: false;
  ConfigFrom: { Network: string };
  ConfigOnly: false;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  Strata: {
    /** The Linux bridge. */
    bridge: string;
    /** Its number among the root's networks (0: the default "bridge" network). */
    index: number;
    /** --subnet was given: the subnet is the user's and never moved. */
    subnetGiven: boolean;
  };
}

export interface EndpointRecord {
  ContainerId: string;
  EndpointId: string;
  /** The names it answers to on this network: container name, aliases, short ID. */
  DnsNames: string[];
  IPv4: string;
  PrefixLen: number;
  Gateway: string;
  Mac: string;
  /** The host end of the veth pair (exists exactly as long as the container's network namespace). */
  Veth: string;
  /** The interface inside the container (eth0, eth1...). */
  IfName: string;
  /** The process that set it up (a shim, a foreground CLI, a build) and its start time. */
  Owner: { pid: number; start: string };
  /** The container's --dns servers: where the responder forwards its other queries (empty: the host's). */
  Upstreams: string[];
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const DEFAULT_NETWORK = 'bridge';
/** Names that mean something other than a network record. */
export const RESERVED_NETWORKS = ['bridge', 'host', 'none', 'default'];

function writeJson(file: string, value: unknown): void {
  const tmp = tempName(path.dirname(file));
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { flag: 'wx' });
    failpoint('net.record-written');
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** The names in DIR; none when it cannot be read (gone meanwhile). */
function entriesOf(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export class NetworkStore {
  readonly dir: string;

  constructor(readonly root: string) {
    this.dir = path.join(root, 'networks');
  }

  /** Runs FN holding the root's network lock (names, addresses, kernel objects change under it). */
  async locked<T>(fn: () => Promise<T>): Promise<T> {
    fs.mkdirSync(this.dir, { recursive: true });
    return withLock(path.join(this.dir, 'lock'), fn);
  }

  /** The IDs of the networks (their dirs). */
  ids(): string[] {
    return entriesOf(this.dir).filter((id) => /^[0-9a-f]{64}$/.test(id));
  }

  list(): NetworkRecord[] {
    return this.ids().map((id) => readJson<NetworkRecord>(path.join(this.dir, id, 'network.json'))).filter((n): n is NetworkRecord => n !== undefined);
  }

  /** By exact name, full ID or unique ID prefix (Docker's lookup order). */
  find(ref: string): NetworkRecord | undefined {
    const all = this.list();
    const byName = all.find((n) => n.Name === ref);
    if (byName) return byName;
    const byId = all.filter((n) => n.Id.startsWith(ref));
    if (byId.length > 1) throw new StrataError(`network "${ref}" is ambiguous: ${byId.length} networks match that ID prefix`);
    return ref.length > 0 ? byId[0] : undefined;
  }

  get(ref: string): NetworkRecord {
    const found = this.find(ref);
    if (!found) throw new NotFoundError(`network "${ref}" not found`);
    return found;
  }

  /** Writes a new record (caller holds the lock and checked the name). */
  create(record: NetworkRecord): void {
    if (!NAME_RE.test(record.Name)) throw new StrataError(`invalid network name "${record.Name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const dir = path.join(this.dir, record.Id);
    fs.mkdirSync(path.join(dir, 'endpoints'), { recursive: true });
    writeJson(path.join(dir, 'network.json'), record);
  }

  update(record: NetworkRecord): void {
    writeJson(path.join(this.dir, record.Id, 'network.json'), record);
  }

  /** Removes the record and everything kept with it (caller holds the lock). */
  remove(id: string): void {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new StrataError(`invalid network ID "${id}"`);
    const dir = path.join(this.dir, id);
    // Renamed away first: a reader never sees a record without its endpoints dir.
    const doomed = path.join(this.dir, `.removing-${id}`);
    try {
      fs.renameSync(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    failpoint('net.record-moved');
    removeTreeSync(doomed);
  }

  /**
   * What killed writers left that only a holder of the lock may take for dead (every removal,
   * creation and record write runs under it): removals' `.removing-ID` dirs, creations' dirs
   * with no network.json and no endpoint, and record temps of older strata (`FILE.tmp-PID-HEX`,
   * no start time: a pid may since be anyone's). One pass: a readdir of networks/, two per network.
   */
  killedLeftovers(): string[] {
    const out: string[] = [];
    for (const name of entriesOf(this.dir)) {
      if (/^\.removing-[0-9a-f]{64}$/.test(name)) out.push(path.join(this.dir, name));
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      if (!fs.existsSync(path.join(this.dir, name, 'network.json')) && this.endpoints(name).length === 0) {
        out.push(this.networkDir(name));
        continue;
      }
      for (const dir of [this.networkDir(name), this.endpointsDir(name)]) {
        for (const e of entriesOf(dir)) if (/\.json\.tmp-\d+-[0-9a-f]{8}$/.test(e)) out.push(path.join(dir, e));
      }
    }
    return out;
  }

  /** Deletes killedLeftovers() (caller holds the lock), never through a mount (one stays then). */
  sweepKilledLeftovers(): void {
    for (const p of this.killedLeftovers()) removeTreeSync(p);
  }

  /** The dirs where records are replaced through temp files: each network's dir and its endpoints/. */
  tempDirs(): string[] {
    return this.ids().flatMap((id) => [this.networkDir(id), this.endpointsDir(id)]);
  }

  networkDir(id: string): string {
    return path.join(this.dir, id);
  }

  endpointsDir(id: string): string {
    return path.join(this.dir, id, 'endpoints');
  }

  endpoints(id: string): EndpointRecord[] {
    const dir = this.endpointsDir(id);
    return entriesOf(dir).filter((n) => n.endsWith('.json')).map((n) => readJson<EndpointRecord>(path.join(dir, n))).filter((e): e is EndpointRecord => e !== undefined);
  }

  endpoint(networkId: string, containerId: string): EndpointRecord | undefined {
    return readJson<EndpointRecord>(path.join(this.endpointsDir(networkId), `${containerId}.json`));
  }

  writeEndpoint(networkId: string, endpoint: EndpointRecord): void {
    writeJson(path.join(this.endpointsDir(networkId), `${endpoint.ContainerId}.json`), endpoint);
  }

  /** Drops the container's endpoint on that network (no lock needed: an unlink); false when it had none. */
  removeEndpoint(networkId: string, containerId: string): boolean {
    try {
      fs.unlinkSync(path.join(this.endpointsDir(networkId), `${containerId}.json`));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}

export function newNetworkId(): string {
  return randomBytes(32).toString('hex');
}
