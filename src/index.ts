// The library's public entry point: the Dockerfile parser and the engine's services.
export { parse, ParseError } from './parser/index.js';
export type { Dockerfile, Instruction, Directive, Heredoc } from './parser/index.js';
export * from './engine/index.js';

// The engine's folder entry, which every strata command imports, leaves this out: it would load
// the registry client for all of them. The package has it as before.
import { openStepCache, type RegistryOptions, type StepCacheStore } from './registry/index.js';
import type { CacheSpec } from './engine/index.js';

/** The build cache a `--cache-from` / `--cache-to` spec names: a registry's, or an OCI layout on disk. */
export const openCacheStore: (spec: CacheSpec, o?: RegistryOptions) => StepCacheStore = openStepCache;
