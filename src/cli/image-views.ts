// What the image commands show, in Docker's shapes: `images` rows, `history` rows and the
// `inspect` object. Pure functions of the store's Image (plus the clock).
import { familiarRepository, parseReference, familiarName, repositoryName, type Image } from '../store/index.js';
import { goTime, humanSize, shortId, timeAgo } from './format/human.js';

export interface ImageRow {
  Containers: string;
  CreatedAt: string;
  CreatedSince: string;
  Digest: string;
  ID: string;
  Repository: string;
  SharedSize: string;
  Size: string;
  Tag: string;
  UniqueSize: string;
  VirtualSize: string;
}

export const IMAGE_HEADINGS: Record<string, string> = {
  Containers: 'CONTAINERS', CreatedAt: 'CREATED AT', CreatedSince: 'CREATED', Digest: 'DIGEST', ID: 'IMAGE ID',
  Repository: 'REPOSITORY', SharedSize: 'SHARED SIZE', Size: 'SIZE', Tag: 'TAG', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE',
};

/** One row per name (REPOSITORY, TAG), or one `<none>` row for an image without names. */
export function imageRows(images: Image[], opts: { noTrunc?: boolean; now?: number; repoDigests?: Map<string, string[]> } = {}): ImageRow[] {
  const rows: ImageRow[] = [];
  const sorted = [...images].sort((a, b) => Date.parse(b.config.created ?? '0') - Date.parse(a.config.created ?? '0') || a.id.localeCompare(b.id));
  for (const img of sorted) {
    const base = {
      Containers: 'N/A',
      CreatedAt: goTime(img.config.created),
      CreatedSince: timeAgo(img.config.created, opts.now),
      Digest: '<none>',
      ID: opts.noTrunc ? img.id : shortId(img.id),
      SharedSize: 'N/A',
      Size: humanSize(img.size),
      UniqueSize: 'N/A',
      VirtualSize: humanSize(img.size),
    };
    const names = [...img.names].sort();
    if (names.length === 0) rows.push({ ...base, Repository: '<none>', Tag: '<none>' });
    for (const n of names) {
      const r = parseReference(n, { defaultTag: false });
      // The digest this image has in that repository, if it was pulled from or pushed to it.
      const at = opts.repoDigests?.get(img.id)?.find((d) => d.startsWith(`${repositoryName(r)}@`));
      rows.push({ ...base, Repository: familiarRepository(r), Tag: r.tag ?? '<none>', Digest: at ? at.slice(at.indexOf('@') + 1) : '<none>' });
    }
  }
  return rows;
}

/**
 * Untagged images that are the parent of another image (its layers and history are a strict
 * prefix of the other's): Docker's intermediate images, listed only with `images -a`.
 */
export function intermediateImages(images: Image[]): Set<string> {
  const startsWith = (a: unknown[], b: unknown[]) => a.length <= b.length && a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]));
  const out = new Set<string>();
  for (const p of images) {
    const ph = p.config.history ?? [];
    if (p.names.length || ph.length === 0) continue;
    const isParent = images.some((c) => {
      const ch = c.config.history ?? [];
      return c.id !== p.id && ph.length < ch.length && startsWith(ph, ch) && startsWith(p.config.rootfs.diff_ids, c.config.rootfs.diff_ids);
    });
    if (isParent) out.add(p.id);
  }
  return out;
}

/** Does a `docker images REPOSITORY[:TAG]` argument match this row? */
export function matchesReference(row: ImageRow, pattern: string): boolean {
  const colon = pattern.lastIndexOf(':');
  const hasTag = colon > pattern.lastIndexOf('/');
  const repo = hasTag ? pattern.slice(0, colon) : pattern;
  const tag = hasTag ? pattern.slice(colon + 1) : undefined;
  const glob = new RegExp(`^${repo.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
  let familiar = row.Repository;
  try {
    familiar = familiarRepository(parseReference(repo, { defaultTag: false }));
  } catch {
    // a glob is not a valid reference: compare as typed
  }
  const repoOk = glob.test(row.Repository) || row.Repository === familiar;
  return repoOk && (tag === undefined || tag === row.Tag);
}

export interface HistoryRow {
  ID: string;
  CreatedAt: string;
  CreatedSince: string;
  CreatedBy: string;
  Size: string;
  Comment: string;
}

export const HISTORY_HEADINGS: Record<string, string> = {
  ID: 'IMAGE', CreatedAt: 'CREATED AT', CreatedSince: 'CREATED', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT',
};

/** Docker's Ellipsis: at most `max` characters, the last one "…" when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** Newest first; the top row carries the image ID, older rows `<missing>` (no parent images here). */
export function historyRows(img: Image, opts: { noTrunc?: boolean; human?: boolean; now?: number } = {}): HistoryRow[] {
  const human = opts.human ?? true;
  const layers = [...img.manifest.layers];
  const entries = img.config.history?.length
    ? img.config.history
    : img.config.rootfs.diff_ids.map(() => ({ created: img.config.created } as NonNullable<typeof img.config.history>[number]));
  const rows: HistoryRow[] = entries.map((h) => {
    const size = h.empty_layer ? 0 : (layers.shift()?.size ?? 0);
    const createdBy = (h.created_by ?? '').replace(/\t/g, ' ');
    return {
      ID: '<missing>',
      CreatedAt: human ? goTime(h.created) : (h.created ?? ''),
      CreatedSince: human ? timeAgo(h.created, opts.now) : (h.created ?? ''),
      CreatedBy: opts.noTrunc ? createdBy : ellipsis(createdBy, 45),
      Size: human ? humanSize(size) : String(size),
      Comment: h.comment ?? '',
    };
  });
  rows.reverse();
  if (rows.length) rows[0].ID = opts.noTrunc ? img.id : shortId(img.id);
  return rows;
}

const CONFIG_DEFAULTS = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false,
  OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null,
  OnBuild: null, Labels: null,
};

/** `docker image inspect`'s object for an image; `repoDigests` are "repository@digest" from registries. */
export function inspectImage(img: Image, layerDirs: string[] = [], repoDigests: string[] = []): Record<string, unknown> {
  const names = [...img.names].sort();
  return {
    Id: img.id,
    RepoTags: names.map(familiarName),
    RepoDigests: repoDigests.map((d) => familiarName(d)),
    Parent: '',
    Comment: img.config.history?.at(-1)?.comment ?? '',
    Created: img.config.created ?? '0001-01-01T00:00:00Z',
    DockerVersion: '',
    Author: img.config.author ?? '',
    Config: { ...CONFIG_DEFAULTS, ...img.config.config },
    Architecture: img.config.architecture,
    ...(img.config.variant ? { Variant: img.config.variant } : {}),
    Os: img.config.os,
    Size: img.size,
    GraphDriver: {
      Data: layerDirs.length ? { LowerDir: [...layerDirs].reverse().join(':') } : null,
      Name: 'overlay',
    },
    RootFS: { Type: 'layers', Layers: img.config.rootfs.diff_ids },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}
