// The typed report of `system check` (check.ts) and what its parts share while they run.
import type { Store } from './store.js';

export interface CheckOptions {
  /** Hash: every blob against its digest, every layer's tar rebuilt against its diff_id. */
  full?: boolean;
  repair?: boolean;
  /** Unreferenced things younger than this are left alone (a build or pull may be writing them). Default 1 hour. */
  minAgeMs?: number;
}

/** damage: something referenced is missing or wrong; leftover: garbage a killed command left; note: fine, but could be better. */
export type FindingKind = 'damage' | 'leftover' | 'note';

export interface Finding {
  kind: FindingKind;
  /** What is affected, in the user's terms: `image "localhost/app:1"`, `layer "sha256:…"`, `store index "…"`. */
  subject: string;
  problem: string;
  /** What repair did about it. */
  repaired?: string;
  /** When repair cannot mend it: what the user can do. */
  advice?: string;
}

export interface CheckReport {
  full: boolean;
  repair: boolean;
  images: number;
  layers: number;
  blobs: number;
  cacheEntries: number;
  containers: number;
  /** Bytes read and hashed (full mode). */
  bytesRead: number;
  findings: Finding[];
}

/** The context the parts of a check share. */
export interface CheckRun {
  store: Store;
  options: CheckOptions;
  report: CheckReport;
  add(f: Finding): Finding;
  /** True when something unreferenced is old enough to be garbage rather than work in progress. */
  old(mtimeMs: number): boolean;
}
