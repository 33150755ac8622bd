// Container networks (issue 13): the entry of src/runtime/net/. A default bridge network per
// state root, user-defined bridge networks with a DNS responder each, NAT and isolation in
// one nftables table per root, veth pairs that die with their containers.
export { createNetwork, defaultNetwork, pruneNetworks, removeNetwork, sweepNetworks, type CreateNetworkOptions } from './networks.js';
export { inspectNetwork, listNetworks, containerNetworkSettings, type NetworkListEntry } from './inspect.js';
export { networkChoice, type NetworkChoice, type NetworkFlags } from './config.js';
export { teardownRoot } from './teardown.js';
export { rootIdentity, tableName } from './names.js';
export { NetworkStore, DEFAULT_NETWORK, type NetworkRecord, type EndpointRecord } from '../../store/networks.js';
