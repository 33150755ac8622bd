// `COPY --parents`: a source keeps its parent directories at the destination (like
// `cp --parents` or `rsync --relative`). A "/./" in the source is the pivot: only what follows
// it is kept, so `COPY --parents ./x/./y/a.txt /d/` gives /d/y/a.txt.

export interface PivotedSource {
  /** The source to select, pivot removed ("x/y/*.txt"). */
  select: string;
  /** The leading directories not kept at the destination ("x"; '' without a pivot). */
  base: string;
}

/** Splits a --parents source at its pivot; a leading "/" or "./" is not part of it. */
export function splitPivot(source: string): PivotedSource {
  const trimmed = source.replace(/^(?:\.?\/)+/, '');
  const at = `/${trimmed}`.indexOf('/./');
  if (at < 0) return { select: trimmed, base: '' };
  // `at` indexes the slash-prefixed text: the pivot's "/" sits at trimmed[at - 1].
  const base = at === 0 ? '' : trimmed.slice(0, at - 1);
  const rest = trimmed.slice(at + 2);
  return { select: base ? `${base}/${rest}` : rest, base: normalize(base) };
}

/** A relative path without "." components, empty parts or trailing slashes. */
export function normalize(p: string): string {
  return p.split('/').filter((x) => x && x !== '.').join('/');
}

/**
 * Where a matched source path lands under the destination: the path after the pivot.
 * A match outside the base (a `..` in the source) keeps its whole path.
 */
export function keptPath(matched: string, base: string): string {
  const m = normalize(matched);
  if (!base) return m;
  if (m === base) return '';
  return m.startsWith(`${base}/`) ? m.slice(base.length + 1) : m;
}
