// `images`' listing as Docker's daemon makes it (daemon/images Images): each image with its tags
// and repository digests, the filters applied — label, before and since look at the image; a
// reference filter narrows each image's names to those it matches (an image left with none is
// not listed); dangling keeps the images with no name at all, or those with one.
import { StrataError } from '../errors.js';
import { filterArgs, filterBool } from '../go-filters.js';
import { familiarName, familiarRepository, parseReference, type Image, type Reference } from '../store/index.js';
import { labelMatches } from './filters.js';

/** One image of `images` (Docker's ImageSummary): full names, NAME:TAG and NAME@DIGEST. */
export interface ImageSummary {
  image: Image;
  repoTags: string[];
  repoDigests: string[];
}

const KEYS = ['label', 'before', 'since', 'dangling', 'reference'];

/** The filters `images` takes, checked and grouped; before= and since= are resolved by the caller. */
export interface ImageListFilters {
  labels: string[];
  before: string[];
  since: string[];
  /** dangling=true (only unnamed images) or false (only named ones). */
  dangling?: boolean;
  references: string[];
}

/** Checks and groups `images --filter` values (Docker's refusals). */
export function imageListFilters(filters: readonly string[]): ImageListFilters {
  const byKey = filterArgs(filters);
  for (const key of byKey.keys()) if (!KEYS.includes(key)) throw new StrataError(`invalid filter "${key}"`);
  let dangling: boolean | undefined;
  for (const value of byKey.get('dangling') ?? []) {
    const b = filterBool(value);
    if (b === undefined) throw new StrataError(`invalid filter "dangling=${value}": expected true or false`);
    dangling = b;
  }
  return { labels: byKey.get('label') ?? [], before: byKey.get('before') ?? [], since: byKey.get('since') ?? [], dangling, references: byKey.get('reference') ?? [] };
}

/** Go's path.Match as a RegExp: `*` and `?` stop at "/", `[...]` a class. */
function globPattern(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  try {
    return new RegExp(`^${body}$`);
  } catch {
    return /$^/; // an unbalanced class matches nothing, as path.Match's ErrBadPattern
  }
}

function parsedOrUndefined(text: string): Reference | undefined {
  try {
    return parseReference(text, { defaultTag: false });
  } catch {
    return undefined; // a glob is not a valid reference
  }
}

/**
 * Docker's FamiliarMatch of a reference filter (or `images REPOSITORY[:TAG]`) against one of an
 * image's names (full: docker.io/library/busybox:latest): the glob against the familiar string,
 * else against the familiar repository. A name typed in full (docker.io/library/busybox) matches
 * too. Against a digest, a tagged pattern is taken as its repository (the daemon's rule, so that
 * `images busybox:latest --digests` shows the digest busybox was pulled with).
 */
export function referenceMatches(pattern: string, name: string): boolean {
  const ref = parseReference(name, { defaultTag: false });
  const wanted = parsedOrUndefined(pattern);
  const query = ref.digest && wanted?.tag !== undefined && wanted.digest === undefined ? familiarRepository(wanted) : pattern;
  const glob = globPattern(query);
  if (glob.test(familiarName(name)) || glob.test(familiarRepository(ref))) return true;
  const typed = query === pattern ? wanted : parsedOrUndefined(query);
  return !!typed && typed.digest === undefined && familiarRepository(typed) === familiarRepository(ref) && (typed.tag === undefined || typed.tag === ref.tag);
}

/** Whether every reference filter names a tag (then an image matched by none of its tags is not listed for a digest). */
function allTagged(references: string[]): boolean {
  return references.every((p) => parsedOrUndefined(p)?.tag !== undefined);
}

/**
 * The summaries of IMAGES (already narrowed by label, before and since, intermediate images left
 * out) under the dangling and reference filters; DIGESTS: each image's NAME@DIGEST references.
 */
export function summarize(images: Image[], digests: Map<string, string[]>, filters: Pick<ImageListFilters, 'dangling' | 'references'>): ImageSummary[] {
  const out: ImageSummary[] = [];
  const refs = filters.references;
  const matching = (names: string[]) => (refs.length ? names.filter((n) => refs.some((p) => referenceMatches(p, n))) : names);
  for (const image of images) {
    const repoTags = matching(image.names);
    let repoDigests = matching(digests.get(image.id) ?? []);
    if (refs.length && repoTags.length === 0 && allTagged(refs)) repoDigests = [];
    const named = repoTags.length > 0 || repoDigests.length > 0;
    if (refs.length && !named) continue;
    // strata's dangling image has neither a tag nor a digest (as the image prune's): one pulled
    // by digest alone is named.
    if (filters.dangling !== undefined && filters.dangling === named) continue;
    out.push({ image, repoTags, repoDigests });
  }
  return out;
}

/** Docker's label filter: every label given must match. */
export function labelsMatch(image: Image, labels: string[]): boolean {
  return labels.every((l) => labelMatches(image.config.config?.Labels, l));
}
