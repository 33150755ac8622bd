// The registry client: pull into the store, push out of it, log in and out. The CLI and the
// builder use what this file exports; the rest of the folder is its inside.
export { pull, type PullOptions, type PullResult } from './pull.js';
export { inspectManifest, type InspectedManifest, type VerboseManifest } from './manifest-inspect.js';
export { allTagReferences } from './pull-tags.js';
export { push, type PushOptions, type PushResult } from './push.js';
export { localTagReferences } from './push-tags.js';
export { login, logout, registryDomain, storedUsername, type LoginOptions } from './login.js';
export { DOCKER_HUB_KEY } from './credentials.js';
export { ensureImage, localImage, type PullPolicy, type EnsureOptions } from './ensure.js';
export { qualify, type RegistryOptions } from './endpoints.js';
export { closeTransports } from './transport.js';
export { repoDigestsOf, allRepoDigests } from '../store/index.js';
export type { ProgressSink, LayerStatus } from './progress-events.js';
export { RegistryCache } from './cache-registry.js';
export { LayoutCache } from './cache-layout.js';
export { openStepCache, type StepCacheSpec } from './cache-open.js';
export { pointerTag, type FoundEntry, type StepConfig, type StepEntry } from './cache-format.js';
export type { EntryToWrite, LayerAhead, StepCacheStore } from './cache-store.js';
export { pushAssembled, type AssembledImage, type AssembledLayer } from './cache-push.js';
