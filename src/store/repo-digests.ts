// Which digest each image has in which repository (Docker's RepoDigests): the digest a pull
// resolved (an index's when the image came through one) or a push produced. Kept in
// STATE_ROOT/registry/repo-digests.json, replaced atomically; a lost race loses an entry,
// which costs only a manifest request on the next pull by that digest. The registry client
// records them; here, in the store, so that `inspect` and `images --digests` read them without
// loading that client.
import fs from 'node:fs/promises';
import path from 'node:path';
import { isDigest } from './digest.js';
import { atomicWriteJson } from './fsutil.js';
import type { Store } from './store.js';

const cacheFile = (store: Store, name: string): string => path.join(store.root, 'registry', name);

/** image ID → repository ("docker.io/library/busybox") → digests, newest first. */
type RepoDigests = Record<string, Record<string, string[]>>;

async function read(store: Store): Promise<RepoDigests> {
  try {
    return JSON.parse(await fs.readFile(cacheFile(store, 'repo-digests.json'), 'utf8')) as RepoDigests;
  } catch {
    return {};
  }
}

export async function recordRepoDigest(store: Store, imageId: string, repository: string, digest: string): Promise<void> {
  if (!isDigest(digest) || !isDigest(imageId)) return;
  const all = await read(store);
  const byRepo = (all[imageId] ??= {});
  if (byRepo[repository]?.[0] === digest) return; // known already: no write
  byRepo[repository] = [digest, ...(byRepo[repository] ?? []).filter((d) => d !== digest)].slice(0, 8);
  const file = cacheFile(store, 'repo-digests.json');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await atomicWriteJson(file, all);
}

/**
 * Forgets an image's digests in `repository` (only `digest` when given; in every repository
 * when `repository` is undefined): Docker's digest references that go with the last tag of
 * their repository, or with the image. Returns the "repository@digest" strings forgotten.
 */
export async function forgetRepoDigests(store: Store, imageId: string, repository?: string, digest?: string): Promise<string[]> {
  const all = await read(store);
  const byRepo = all[imageId];
  if (!byRepo) return [];
  const gone: string[] = [];
  for (const repo of Object.keys(byRepo).sort()) {
    if (repository !== undefined && repo !== repository) continue;
    const keep = byRepo[repo].filter((d) => {
      if (digest !== undefined && d !== digest) return true;
      gone.push(`${repo}@${d}`);
      return false;
    });
    if (keep.length) byRepo[repo] = keep;
    else delete byRepo[repo];
  }
  if (!gone.length) return [];
  if (!Object.keys(byRepo).length) delete all[imageId];
  await atomicWriteJson(cacheFile(store, 'repo-digests.json'), all);
  return gone;
}

/** The image a repository@digest names, if it was pulled or pushed from here. */
export async function imageByRepoDigest(store: Store, repository: string, digest: string): Promise<string | undefined> {
  const all = await read(store);
  return Object.keys(all).find((id) => all[id][repository]?.includes(digest));
}

/** "repository@digest" strings of an image (its manifest's digest in the repositories it is named in comes first). */
export async function repoDigestsOf(store: Store, imageId: string): Promise<string[]> {
  const byRepo = (await read(store))[imageId] ?? {};
  return Object.entries(byRepo).flatMap(([repo, digests]) => digests.map((d) => `${repo}@${d}`));
}

/** The images with a digest reference (pulled or pushed by digest): never dangling nor intermediate, as Docker's. */
export async function digestReferencedImages(store: Store): Promise<Set<string>> {
  const all = await read(store);
  return new Set(Object.keys(all).filter((id) => Object.values(all[id]!).some((ds) => ds.length > 0)));
}

/** Every image's repo digests (for `images --digests`). */
export async function allRepoDigests(store: Store): Promise<Map<string, string[]>> {
  const all = await read(store);
  return new Map(Object.entries(all).map(([id, byRepo]) => [id, Object.entries(byRepo).flatMap(([repo, ds]) => ds.map((d) => `${repo}@${d}`))]));
}
