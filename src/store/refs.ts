// Image references, normalised as Docker does: "busybox" is docker.io/library/busybox:latest,
// "user/app" is docker.io/user/app:latest, "localhost/x" and "host:5000/x" keep their domain.
// The store keys images by the full normalised form ("docker.io/library/busybox:latest"); that
// string is also the OCI index's org.opencontainers.image.ref.name, as containerd writes it.
import { StrataError } from '../errors.js';
import { isDigest } from './digest.js';

export interface Reference {
  /** "docker.io" | "localhost" | "host:port" ... */
  domain: string;
  /** Path inside the domain, e.g. "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;

export const DEFAULT_DOMAIN = 'docker.io';

function invalid(ref: string, why: string): StrataError {
  return new StrataError(`invalid reference format "${ref}": ${why}`);
}

/** Parses and normalises a reference; adds ":latest" when it has neither tag nor digest. */
export function parseReference(ref: string, { defaultTag = true } = {}): Reference {
  if (ref === '' || ref.length > 255 + 128 + 72) throw invalid(ref, 'empty or too long');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw invalid(ref, 'bad digest');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, 'bad tag');
  }
  const parts = rest.split('/');
  let domain = DEFAULT_DOMAIN;
  const first = parts[0];
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) throw invalid(ref, 'bad domain');
    domain = first;
    parts.shift();
  }
  if (parts.some((p) => p !== p.toLowerCase())) throw invalid(ref, 'repository name must be lowercase');
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) throw invalid(ref, 'bad repository name');
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && parts.length === 1) parts.unshift('library');
  if (!tag && !digest && defaultTag) tag = 'latest';
  return { domain, path: parts.join('/'), tag, digest };
}

/** "docker.io/library/busybox" */
export function repositoryName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** The full string: "docker.io/library/busybox:latest", "localhost/x@sha256:...". */
export function formatReference(r: Reference): string {
  return repositoryName(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

/** Normalises a tag reference ("busybox" -> "docker.io/library/busybox:latest"); refuses digests. */
export function normalizeTag(ref: string): string {
  const r = parseReference(ref);
  if (r.digest) throw new StrataError(`refusing to create a tag with a digest reference "${ref}"`);
  return formatReference(r);
}

/** The repository as Docker shows it: "busybox", "user/app", "localhost/x", "quay.io/a/b". */
export function familiarRepository(r: Reference): string {
  if (r.domain === DEFAULT_DOMAIN) return r.path.startsWith('library/') ? r.path.slice('library/'.length) : r.path;
  return repositoryName(r);
}

/** "busybox:latest" for docker.io/library/busybox:latest. */
export function familiarName(full: string): string {
  const r = parseReference(full, { defaultTag: false });
  return familiarRepository(r) + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}
