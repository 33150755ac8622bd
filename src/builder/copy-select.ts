// Which context entries a COPY/ADD source selects, and the per-file inputs of its cache key.
// Sources are relative to the context root (a leading "/" too); wildcards follow Go's
// filepath.Match per path component, as BuildKit's do.
import { glob, hasWildcards } from '../store/index.js';
import { BuildContext, type ContextEntry } from './context.js';
import { normalize } from './copy-parents.js';
import { IgnoreMatcher } from './dockerignore.js';
import { contextSource } from './tree-source.js';

export interface Selected {
  /** The source as written (after expansion). */
  source: string;
  /** The entry it resolved to (symlinks followed inside the context). */
  entry: ContextEntry;
  /** The context path it matched, before symlinks are followed. */
  path: string;
  /** The name it was selected by: a symlink source is copied under its own name, not its target's. */
  name: string;
  /** COPY --parents: where the entry lands under the destination directory. */
  keep?: string;
}

/**
 * Resolves every source; throws Error(`file not found in build context: "x"`) for a plain
 * source that does not exist, or when wildcards are all the sources and match nothing (a
 * wildcard beside other sources may match nothing, as in Docker and podman).
 */
export async function selectSources(ctx: BuildContext, sources: string[], options: { doublestar?: boolean } = {}): Promise<Selected[]> {
  const out: Selected[] = [];
  let emptyGlob: string | undefined;
  for (const source of sources) {
    const wild = hasWildcards(source);
    const paths = wild ? await glob(contextSource(ctx), source, options) : [normalize(source)];
    const found = paths.map((p) => ({ path: p, entry: ctx.resolve(p) }));
    const entries = found.filter((f): f is { path: string; entry: ContextEntry } => !!f.entry);
    if (entries.length === 0) {
      if (!wild) throw new NotFoundError(source);
      emptyGlob ??= source;
      continue;
    }
    for (const { path, entry } of entries) out.push({ source, entry, path, name: baseName(path) });
  }
  if (out.length === 0 && emptyGlob !== undefined) throw new NotFoundError(emptyGlob);
  return out;
}

function baseName(p: string): string {
  const parts = p.split('/').filter((s) => s && s !== '.');
  return parts[parts.length - 1] ?? '';
}

export class NotFoundError extends Error {
  constructor(readonly source: string) {
    super(`file not found in build context: "${source}"`);
  }
}

/** Every entry a selection copies (a directory's content, not the directory), minus `--exclude`. */
export function* selectedEntries(ctx: BuildContext, sel: Selected, exclude?: IgnoreMatcher): Generator<{ entry: ContextEntry; rel: string }> {
  if (sel.entry.type !== 'dir') {
    yield { entry: sel.entry, rel: '' };
    return;
  }
  const prefix = sel.entry.path ? `${sel.entry.path}/` : '';
  for (const entry of ctx.walkUnder(sel.entry.path)) {
    const rel = entry.path.slice(prefix.length);
    if (exclude && !exclude.empty && exclude.matches(rel)) continue;
    yield { entry, rel };
  }
}

/** The cache-key view of a selection: context path -> "sha256 mode" / "dir mode" / "link -> target". */
export async function selectionInputs(ctx: BuildContext, selections: Selected[], exclude?: IgnoreMatcher): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const toHash: string[] = [];
  const modeOf = (e: ContextEntry) => (e.mode & 0o7777).toString(8);
  for (const sel of selections) {
    for (const { entry } of selectedEntries(ctx, sel, exclude)) {
      if (entry.type === 'file') toHash.push(entry.path);
      else if (entry.type === 'dir') files[`${entry.path}/`] = `dir ${modeOf(entry)}`;
      else files[entry.path] = `link -> ${entry.linkTarget}`;
    }
  }
  await ctx.ensureHashed(toHash);
  for (const p of toHash) files[p] = `${ctx.hashOf(p)} ${modeOf(ctx.entries.get(p)!)}`;
  return files;
}
