// The sizes Docker shows for an image (`images`, `image inspect`, `history`, `ps -s`): its
// layers' uncompressed tar bytes, as docker and podman count them. A pulled image's manifest
// names compressed blobs (strata keeps a pulled layer packed in its blob until first used), so
// the manifest's sizes would show a pulled image smaller than the base it was built on, and
// the same image another size once pushed and pulled back.
import type { Image, Store } from '../store/index.js';

/** Per-layer tar sizes, remembered across the images of one listing (they share base layers). */
export class LayerSizes {
  private readonly known = new Map<string, Promise<number>>();

  constructor(private readonly store: Pick<Store, 'layerSize'>) {}

  /** Each layer's tar bytes, bottom first (the manifest's size when the store cannot tell). */
  of(img: Image): Promise<number[]> {
    return Promise.all(img.config.rootfs.diff_ids.map((diffId, i) => {
      let size = this.known.get(diffId);
      if (!size) {
        size = this.store.layerSize(diffId as never).catch(() => img.manifest.layers[i]?.size ?? 0);
        this.known.set(diffId, size);
      }
      return size;
    }));
  }

  /** The image's size: all its layers' tar bytes. */
  async total(img: Image): Promise<number> {
    return (await this.of(img)).reduce((n, s) => n + s, 0);
  }

  /** IMG with `size` its layers' tar bytes. */
  async sized(img: Image): Promise<Image> {
    return { ...img, size: await this.total(img) };
  }
}
