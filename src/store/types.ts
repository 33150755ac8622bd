// The store's boundary: what the runtime, the build engine and the CLI may ask of it.
// Formats follow the OCI image-spec (manifest, config, descriptors) to the letter; the
// config also carries Docker's fields (Healthcheck, OnBuild, Shell, ...) as docker writes them.

/** "sha256:<64 hex>". Validated (see digest.ts) before any path is built from it. */
export type Digest = string;

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface Manifest {
  schemaVersion: 2;
  mediaType: 'application/vnd.oci.image.manifest.v1+json';
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` object of an image config: what a container started from the image gets. */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Healthcheck?: HealthConfig;
  Shell?: string[];
  OnBuild?: string[] | null;
  ArgsEscaped?: boolean;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history: HistoryEntry[];
}

/** An image as the store knows it. Its ID is the config digest, as Docker's is. */
export interface Image {
  id: Digest;
  manifestDigest: Digest;
  manifest: Manifest;
  config: ImageConfig;
  /** Full references naming it, e.g. "docker.io/library/busybox:latest", "localhost/app:1". */
  names: string[];
  /** Bytes of its layers (uncompressed). */
  size: number;
}

/** A layer in the store. Layers are kept uncompressed, so digest === diffId locally. */
export interface LayerInfo {
  diffId: Digest;
  digest: Digest;
  size: number;
  mediaType: string;
}

export interface ImageStore {
  readonly root: string;
  /** By reference ("busybox", "localhost/x:1", full ref) or by ID / unique ID prefix. Throws StrataError `no such image: "x"`. */
  resolveImage(refOrId: string): Promise<Image>;
  listImages(): Promise<Image[]>;
  /** Which image a reference or ID names, from the index alone (nothing else read). Throws as resolveImage. */
  findImage(refOrId: string): Promise<{ id?: Digest; manifestDigest: Digest; names: string[] }>;
  /** Points REF (normalised like Docker's short names) at the image. */
  tag(imageId: Digest, ref: string): Promise<void>;
  /** Removes one reference; true if it existed. */
  untag(ref: string): Promise<boolean>;
  /**
   * Deletes an image (all its names); blobs no other image uses become garbage. With
   * `unlessInUse`, an image a container (or a container being created) uses stays: false.
   */
  removeImage(imageId: Digest, options?: { unlessInUse?: boolean }): Promise<boolean>;
  /** The unpacked snapshot of a layer, usable as an overlay lowerdir (overlay-format whiteouts). */
  layerPath(diffId: Digest): Promise<string>;
  /** Bytes of a layer's (uncompressed) tar. */
  layerSize(diffId: Digest): Promise<number>;
  /**
   * Packs a directory in overlay upper-dir form (0/0 char-device whiteouts, opaque xattrs) into
   * an OCI layer tar with `.wh.` entries, stores it as a blob and keeps the directory's content
   * as the layer's snapshot. Entry order is deterministic; mtimes are clamped to
   * sourceDateEpoch when given. With takeOwnership the caller hands `dir` over (same filesystem
   * as the store, no longer in use): it is renamed into place as the snapshot instead of being
   * extracted again from the tar, and is gone when the call returns or throws.
   */
  createLayerFromDir(dir: string, options?: { sourceDateEpoch?: number; takeOwnership?: boolean }): Promise<LayerInfo>;
  /** Writes the config and manifest blobs and returns the image, tagging it with `tags`. */
  writeImage(config: ImageConfig, layers: LayerInfo[], options?: { tags?: string[] }): Promise<Image>;
}
