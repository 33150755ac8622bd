// strata's version, as `version` and `--version` print it (kept equal to package.json's by
// src/engine/system.test.ts: the CLI bundles cannot read package.json through import.meta).
export const STRATA_VERSION = '0.1.0';
