// Which context entries a COPY/ADD source selects, and the per-file inputs of its cache key.
// Sources are relative to the context root (a leading "/" too); wildcards follow Go's
// filepath.Match per path component, as BuildKit's do.
import { glob, hasWildcards } from '../store/index.js';
import { jsonString, tableDigest, type KeyInputs } from './cache-key.js';
import { BuildContext, type ContextEntry } from './context.js';
import { normalize } from './copy-parents.js';
import { IgnoreMatcher } from './dockerignore.js';
import { selectionSignature } from './selection-memo.js';
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

/**
 * The cache-key view of a selection, context path -> "sha256 mode" / "dir mode" / "link -> target":
 * `digest` is what the key hashes for it (cache-key.ts), `record()` the table itself, made only
 * when it is recorded or compared (a miss). When the selection memo knows the selection's
 * signature, the digest comes from there and no file's hash is looked up unless record() is called.
 */
export interface SelectionTable {
  digest: string;
  record(): Record<string, string>;
}

export async function selectionTable(ctx: BuildContext, selections: Selected[], exclude?: IgnoreMatcher): Promise<SelectionTable> {
  // In walk order: the table's keys (dirs as "path/") and the entries they stand for.
  const keys: string[] = [];
  const entries: ContextEntry[] = [];
  const take = (entry: ContextEntry) => {
    keys.push(entry.type === 'dir' ? `${entry.path}/` : entry.path);
    entries.push(entry);
  };
  for (const sel of selections) {
    if (sel.entry.type === 'dir' && (!exclude || exclude.empty)) ctx.walkUnder(sel.entry.path, take);
    else for (const { entry } of selectedEntries(ctx, sel, exclude)) take(entry);
  }
  const signature = selectionSignature(keys, entries);
  const files = () => entries.filter((e) => e.type === 'file').map((e) => e.path);
  let order: number[] | undefined;
  const record = () => {
    ctx.ensureHashedNow(files());
    order ??= canonicalOrder(keys);
    const table: Record<string, string> = {};
    for (const i of order) table[keys[i]] = valueOf(ctx, entries[i]);
    return table;
  };
  const known = ctx.memo.lookup(signature);
  if (known) return { digest: known, record };
  await ctx.ensureHashed(files());
  order = canonicalOrder(keys);
  let text = '{';
  for (let j = 0; j < order.length; j++) {
    const i = order[j];
    text += `${j ? ',' : ''}${jsonString(keys[i])}:${jsonString(valueOf(ctx, entries[i]))}`;
  }
  const digest = tableDigest(`${text}}`);
  ctx.memo.remember(signature, digest);
  return { digest, record };
}

function valueOf(ctx: BuildContext, e: ContextEntry): string {
  const mode = (e.mode & 0o7777).toString(8);
  if (e.type === 'file') return `${ctx.hashOf(e.path)} ${mode}`;
  return e.type === 'dir' ? `dir ${mode}` : `link -> ${e.linkTarget}`;
}

/**
 * inputs.files as a property made when first read: a hit never reads it (its key was hashed from
 * the table's text), a miss records and compares it.
 */
export function setLazyFiles(inputs: KeyInputs, table: SelectionTable): void {
  Object.defineProperty(inputs, 'files', {
    enumerable: true,
    configurable: true,
    get() {
      const files = table.record();
      Object.defineProperty(inputs, 'files', { value: files, enumerable: true, configurable: true, writable: true });
      return files;
    },
    set(files: Record<string, string>) {
      Object.defineProperty(inputs, 'files', { value: files, enumerable: true, configurable: true, writable: true });
    },
  });
}

/**
 * Indexes of `keys` in canonicalJson's order (code-unit order, each key once). A depth-first
 * walk of sorted names is nearly that order already (only names with characters below "/"
 * differ), so the usual case is one pass that finds nothing to sort.
 */
function canonicalOrder(keys: string[]): number[] {
  const order = keys.map((_, i) => i);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1] < keys[i];
  if (sorted) return order;
  order.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : b - a));
  // One index per key: the last one taken, as a later assignment to an object wins (same value anyway).
  return order.filter((i, j) => j === 0 || keys[order[j - 1]] !== keys[i]);
}

/** The cache-key view of a selection as an object (context path -> "sha256 mode" / "dir mode" / "link -> target"). */
export async function selectionInputs(ctx: BuildContext, selections: Selected[], exclude?: IgnoreMatcher): Promise<Record<string, string>> {
  return (await selectionTable(ctx, selections, exclude)).record();
}
