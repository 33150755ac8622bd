// A stage's history rows and their dates. A metadata row (ENV, LABEL, CMD...) is dated by this
// build's steps, as podman dates it by the moment the build reached it: rows before the stage's
// first step take that step's time (not the base image's date), later rows the previous step's.
// A stage of metadata only takes the time it was first built, kept in a cache entry of its own.
// Cached steps keep their recorded times, so a warm rebuild gives the same image ID.
import type { BuildCache, CacheEntry, HistoryEntry } from '../store/index.js';
import type { PreparedStage, PreparedStep } from './prepare.js';
import { historyRow } from './stage-state.js';

/** The keys a stage looks up: its steps' (and their --link keys), or its metadata's. */
export function lookupKeys(ps: PreparedStage): string[] {
  const keys = ps.steps.flatMap((s) => (s.linkKey ? [s.key, s.linkKey] : [s.key]));
  return ps.metadata ? [...keys, ps.metadata.key] : keys;
}

export interface HistoryInput {
  ps: PreparedStage;
  /** When each step of the stage was built (its cache entry's time when it was a hit). */
  stepResults: Map<PreparedStep, { created: string; layer?: unknown }>;
  /** The base's rows; the stage's are appended. */
  history: HistoryEntry[];
  /** The base's creation time. */
  lastCreated: string;
  /** SOURCE_DATE_EPOCH as an ISO time: every row at most that. */
  sde?: string;
  /** The metadata-only stage's cache entry, if one was found (and may be used). */
  metaEntry?: CacheEntry;
  cache: BuildCache;
}

/** Appends the stage's rows to `history`; returns the image's creation time. */
export async function datedHistory(i: HistoryInput): Promise<string> {
  const { ps, stepResults, history, sde } = i;
  let lastCreated = i.lastCreated;
  const firstStep = ps.history.find((t) => t.step && stepResults.has(t.step))?.step;
  if (firstStep) lastCreated = stepResults.get(firstStep)!.created;
  else if (ps.metadata && !sde) lastCreated = i.metaEntry?.created ?? (await recordMetadata(i.cache, ps, ps.metadata));
  for (const t of ps.history) {
    const r = t.step ? stepResults.get(t.step) : undefined;
    if (r) lastCreated = r.created;
    const withLayer = !!r?.layer || (!!t.step && t.step.action.type !== 'workdir');
    // BuildKit marks the rows of RUN, COPY and ADD " # buildkit", never WORKDIR's, layer or not.
    history.push(historyRow(t.createdBy, sde ?? lastCreated, withLayer, withLayer && t.step?.action.type !== 'workdir'));
  }
  if (sde) for (const h of history) if (h.created && h.created > sde) h.created = sde;
  return sde ?? lastCreated;
}

/** A metadata-only stage built now: its time recorded for the next build. */
async function recordMetadata(cache: BuildCache, ps: PreparedStage, meta: NonNullable<PreparedStage['metadata']>): Promise<string> {
  const created = new Date().toISOString();
  await cache.record({ key: meta.key, parent: meta.inputs.parent, slot: meta.slot, stage: ps.label, step: meta.display, size: 0, created }, meta.inputs);
  return created;
}
