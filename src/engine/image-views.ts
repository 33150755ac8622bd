// What an image looks like to the outside, as Docker shows it: the `image inspect` object and
// the history entries (newest first). Pure functions of the store's Image.
import { familiarName, STORAGE_DRIVER, type Image } from '../store/index.js';

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
    GraphDriver: { Data: imageGraphDriverData(layerDirs), Name: STORAGE_DRIVER },
    RootFS: { Type: 'layers', Layers: img.config.rootfs.diff_ids },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
  };
}

/**
 * GraphDriver.Data of an image, as Docker's overlay2 gives it (GetMetadata of the image's top
 * layer): UpperDir the top layer's files, LowerDir the ones below it, top first (only when there
 * are any), and the top layer's MergedDir and WorkDir, which strata has none of for an image (a
 * container gets its own): "" then. null for an image without layers. LAYER_DIRS: bottom first.
 */
function imageGraphDriverData(layerDirs: string[]): Record<string, string> | null {
  if (layerDirs.length === 0) return null;
  const [upper, ...lowers] = [...layerDirs].reverse();
  return { ...(lowers.length ? { LowerDir: lowers.join(':') } : {}), MergedDir: '', UpperDir: upper!, WorkDir: '' };
}

/** One step of an image's history, as Docker's API gives it. */
export interface HistoryEntry {
  /** The image ID on the newest entry; "<missing>" on older ones (no parent images here). */
  id: string;
  /** ISO time, when recorded. */
  created?: string;
  createdBy: string;
  /** Bytes of the step's layer (0 for a step that made none). */
  size: number;
  comment: string;
  emptyLayer: boolean;
}

/**
 * The image's history, newest first; an image without history gets one entry per layer.
 * LAYER_SIZES: each layer's tar bytes, bottom first (image-sizes.ts); the manifest's otherwise.
 */
export function imageHistory(img: Image, layerSizes: number[] = img.manifest.layers.map((l) => l.size)): HistoryEntry[] {
  const layers = [...layerSizes];
  const entries = img.config.history?.length
    ? img.config.history
    : img.config.rootfs.diff_ids.map(() => ({ created: img.config.created } as NonNullable<typeof img.config.history>[number]));
  const out: HistoryEntry[] = entries.map((h) => ({
    id: '<missing>',
    created: h.created,
    createdBy: h.created_by ?? '',
    size: h.empty_layer ? 0 : (layers.shift() ?? 0),
    comment: h.comment ?? '',
    emptyLayer: !!h.empty_layer,
  }));
  out.reverse();
  if (out.length) out[0].id = img.id;
  return out;
}
