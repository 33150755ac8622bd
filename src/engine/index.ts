// The engine's public API: the services a TypeScript program (and the CLI) works through.
export { applyChanges, ALLOWED_CHANGES } from './changes.js';
export { networkPruneFilter } from './network-prune.js';
export * from './builder.js';
export * from './build-cache.js';
export * from './containers.js';
export * from './images.js';
export * from './volumes.js';
export * from './networks.js';
export * from './system.js';
export * from './events.js';
export { parseCacheSpec, type CacheSpec } from './cache-spec.js';
export { pruneSharedCache } from './cache-prune-remote.js';
export { contextTar } from './remote-context.js';
