// Media types of the OCI image spec and Docker's v2 schema 2, and what each means to the client.

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';

export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const DOCKER_FOREIGN = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');

export const isIndex = (t: string) => t === OCI_INDEX || t === DOCKER_LIST;
export const isManifest = (t: string) => t === OCI_MANIFEST || t === DOCKER_MANIFEST;

export type Compression = 'gzip' | 'zstd' | 'none';

/** How a layer blob of this media type is compressed; undefined for types that are not layers. */
export function layerCompression(mediaType: string): Compression | undefined {
  if (mediaType === OCI_LAYER_GZIP || mediaType === DOCKER_LAYER_GZIP || mediaType === DOCKER_FOREIGN
    || mediaType === 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip') return 'gzip';
  if (mediaType === OCI_LAYER_ZSTD || mediaType === 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd') return 'zstd';
  if (mediaType === OCI_LAYER || mediaType === 'application/vnd.oci.image.layer.nondistributable.v1.tar') return 'none';
  return undefined;
}

/** The gzip layer type that goes with a manifest type (Docker's manifests name Docker's). */
export const gzipLayerType = (manifestType: string) => (manifestType === DOCKER_MANIFEST ? DOCKER_LAYER_GZIP : OCI_LAYER_GZIP);
