// The Networks service: the networks of a state root — create, list, inspect, remove, prune —
// and containers connected to them and disconnected, running or not, with Docker's rules. The
// work is the runtime's (runtime/net/: bridges, endpoints, nftables, DNS responders;
// runtime/net-connect.ts: a container's side).
import {
  connectContainer, createNetwork, disconnectContainer, inspectNetworkRefs, listNetworks, pruneNetworks, removeNetwork, runcRootOf, unappliedOptions,
  type CreateNetworkOptions, type NetworkListEntry,
} from '../runtime/index.js';
import { ContainerStore, stateRoot, type NetworkRecord } from '../store/index.js';
import { networkPruneFilter } from './network-prune.js';

export type { CreateNetworkOptions, NetworkListEntry } from '../runtime/index.js';
export type { NetworkRecord } from '../store/index.js';

export interface NetworkCreated {
  network: NetworkRecord;
  /** The `-o` options recorded but not applied (all but the MTU): not refused, as compose files carry them. */
  unapplied: string[];
}

export class Networks {
  readonly stateRoot: string;

  constructor(o: { stateRoot?: string } = {}) {
    this.stateRoot = o.stateRoot ?? stateRoot();
  }

  async create(options: CreateNetworkOptions): Promise<NetworkCreated> {
    const network = await createNetwork(this.stateRoot, options);
    return { network, unapplied: unappliedOptions(options.options ?? {}) };
  }

  /** `network ls`: the predefined networks with the root's, in docker/cli's order, those FILTERS accept (Docker's keys). */
  list(filters: string[] = []): Promise<NetworkListEntry[]> {
    return listNetworks(this.stateRoot, filters);
  }

  /** Docker's `network inspect` objects of the networks REFS name (by name, ID or ID prefix), and the refs that name none. */
  inspect(refs: string[]): Promise<{ found: object[]; missing: string[] }> {
    return inspectNetworkRefs(this.stateRoot, refs);
  }

  /** Removes a network no container is on (refused otherwise, as Docker's); returns its record. */
  remove(ref: string): Promise<NetworkRecord> {
    return removeNetwork(this.stateRoot, ref);
  }

  /** Removes the user-defined networks no container is on that FILTERS accept (until=, label=, label!=); checked before anything goes. */
  async prune(filters: string[] = []): Promise<NetworkRecord[]> {
    return pruneNetworks(this.stateRoot, networkPruneFilter(filters));
  }

  /** Attaches CONTAINER to NETWORK: plumbed now when it runs, at its next start otherwise. */
  connect(container: string, network: string, options: { aliases?: string[]; ip?: string } = {}): Promise<void> {
    return connectContainer(this.#context(), container, network, { aliases: options.aliases ?? [], ip: options.ip });
  }

  /** Detaches CONTAINER from NETWORK (its interface there goes at once when it runs). */
  disconnect(container: string, network: string): Promise<void> {
    return disconnectContainer(this.#context(), container, network);
  }

  #context() {
    return { root: this.stateRoot, containers: new ContainerStore(this.stateRoot), runcRoot: runcRootOf(this.stateRoot) };
  }
}
