// `manifest inspect`: a manifest or index as the registry serves it (checked against its
// digest as a pull checks it), and Docker's verbose form: for each image, its reference,
// descriptor and parsed manifest (an index's entries fetched one by one).
import { StrataError } from '../errors.js';
import { assertDigest, formatReference } from '../store/index.js';
import type { FetchedManifest } from './client.js';
import { qualify, type RegistryOptions } from './endpoints.js';
import { RegistryError } from './errors.js';
import { DOCKER_MANIFEST, isIndex } from './media-types.js';
import { resolveManifest } from './pull.js';

interface Descriptor { mediaType?: string; digest: string; size: number; platform?: Record<string, unknown> }

/** Docker's ImageManifest (the verbose form). */
export interface VerboseManifest {
  Ref: string;
  Descriptor: Descriptor;
  /** The manifest's bytes (base64 in JSON, as Go's []byte). */
  Raw: string;
  SchemaV2Manifest?: unknown;
  OCIManifest?: unknown;
}

export interface InspectedManifest extends FetchedManifest {
  /** The reference asked for, qualified ("127.0.0.1:5000/app:1"). */
  reference: string;
  /** With `verbose`: one entry for a manifest, one per image for an index. */
  verbose?: VerboseManifest | VerboseManifest[];
}

function parse(m: FetchedManifest): Record<string, unknown> {
  const doc = JSON.parse(m.bytes.toString('utf8')) as Record<string, unknown>;
  if (doc.schemaVersion !== 2) throw new StrataError(`unsupported manifest (schema version ${String(doc.schemaVersion)})`);
  return doc;
}

function verboseOf(ref: string, m: FetchedManifest, platform?: Record<string, unknown>): VerboseManifest {
  const doc = parse(m);
  const descriptor: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, ...(platform ? { platform } : {}) };
  const parsed = m.mediaType === DOCKER_MANIFEST ? { SchemaV2Manifest: doc } : { OCIManifest: doc };
  return { Ref: ref, Descriptor: descriptor, Raw: m.bytes.toString('base64'), ...parsed };
}

/** The manifest or index NAME names (mirrors first, as a pull); with `verbose`, Docker's verbose form too. */
export async function inspectManifest(name: string, o: RegistryOptions & { verbose?: boolean } = {}): Promise<InspectedManifest> {
  const ref = qualify(name, o);
  const reference = formatReference(ref);
  const { repo, top } = await resolveManifest(ref, o).catch((err: unknown) => {
    // Docker's words for a repository or tag the registry does not have.
    throw err instanceof RegistryError && err.notFound ? new StrataError(`no such manifest: ${reference}`) : err;
  });
  parse(top);
  if (!o.verbose) return { ...top, reference };
  if (!isIndex(top.mediaType)) return { ...top, reference, verbose: verboseOf(reference, top) };
  const entries = parse(top).manifests ?? [];
  if (!Array.isArray(entries)) throw new StrataError(`the index of ${reference} has no list of manifests`);
  const verbose: VerboseManifest[] = [];
  for (const e of entries as Descriptor[]) {
    // The registry's word is checked before it names a path: a tag or "../x" here would fetch another manifest.
    const m = await repo.manifest(assertDigest(e?.digest, 'manifest descriptor in the index'));
    if (e.size && m.bytes.length !== e.size) throw new StrataError(`manifest "${e.digest}" is ${m.bytes.length} bytes, the index says ${e.size}`);
    verbose.push(verboseOf(formatReference({ domain: ref.domain, path: ref.path, digest: e.digest }), m, e.platform));
  }
  return { ...top, reference, verbose };
}
