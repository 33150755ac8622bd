// What the image commands show, in Docker's shapes: `images` rows, `history` rows and the
// `inspect` object. Pure functions of the store's Image (plus the clock).
import { familiarRepository, parseReference, repositoryName } from '../store/index.js';
import type { HistoryEntry, ImageSummary } from '../engine/index.js';

// The rules and the inspect object live in the engine; re-exported for the commands and their tests.
export { inspectImage, intermediateImages } from '../engine/index.js';
import { goTime, humanSize, rfc3339Seconds, shortId, timeAgo } from './format/human.js';
import { compareBytes } from '../sort-order.js';

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

/**
 * One row per name (REPOSITORY, TAG), a `REPO <none>` row per repository the image has only a
 * digest in (per digest with `digests`), or one `<none>` row for an image with neither: the
 * docker CLI's rows of the daemon's summaries (engine/image-list.ts).
 */
export function imageRows(summaries: ImageSummary[], opts: { noTrunc?: boolean; now?: number; digests?: boolean } = {}): ImageRow[] {
  const rows: ImageRow[] = [];
  const sorted = [...summaries].sort((a, b) => Date.parse(b.image.config.created ?? '0') - Date.parse(a.image.config.created ?? '0') || compareBytes(a.image.id, b.image.id));
  for (const { image: img, repoTags, repoDigests: digests } of sorted) {
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
    const names = [...repoTags].sort();
    const tagged = new Set<string>();
    for (const n of names) {
      const r = parseReference(n, { defaultTag: false });
      tagged.add(repositoryName(r));
      // The digest this image has in that repository, if it was pulled from or pushed to it.
      const at = digests.find((d) => d.startsWith(`${repositoryName(r)}@`));
      rows.push({ ...base, Repository: familiarRepository(r), Tag: r.tag ?? '<none>', Digest: at ? at.slice(at.indexOf('@') + 1) : '<none>' });
    }
    // A repository the image has only a digest in (pulled by digest; its tag since moved to
    // another image): Docker's "REPO <none>" row, one per digest with --digests.
    const digestOnly = new Map<string, string[]>();
    for (const d of digests) {
      const r = parseReference(d, { defaultTag: false });
      if (tagged.has(repositoryName(r))) continue;
      const repo = familiarRepository(r);
      digestOnly.set(repo, [...(digestOnly.get(repo) ?? []), r.digest ?? '<none>']);
    }
    for (const [repo, ds] of [...digestOnly].sort(([a], [b]) => compareBytes(a, b))) {
      for (const d of opts.digests ? ds : ds.slice(0, 1)) rows.push({ ...base, Repository: repo, Tag: '<none>', Digest: d });
    }
    if (names.length === 0 && digestOnly.size === 0) rows.push({ ...base, Repository: '<none>', Tag: '<none>' });
  }
  return rows;
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

/** Newest first, as the service gives them; the top row carries the image ID, older rows `<missing>`. */
export function historyRows(entries: HistoryEntry[], opts: { noTrunc?: boolean; human?: boolean; now?: number } = {}): HistoryRow[] {
  const human = opts.human ?? true;
  return entries.map((h) => {
    // A heredoc's newlines are shown as \n: each step stays one row.
    const createdBy = h.createdBy.replace(/\t/g, ' ').replace(/\r?\n/g, '\\n');
    return {
      ID: h.id === '<missing>' || opts.noTrunc ? h.id : shortId(h.id),
      // Docker's history: CreatedAt is always RFC 3339 (seconds); CreatedSince too without -H.
      CreatedAt: rfc3339Seconds(h.created),
      CreatedSince: human ? timeAgo(h.created, opts.now) : rfc3339Seconds(h.created),
      CreatedBy: opts.noTrunc ? createdBy : ellipsis(createdBy, 45),
      Size: human ? humanSize(h.size) : String(h.size),
      Comment: h.comment,
    };
  });
}
