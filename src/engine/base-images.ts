// How a build finds its base images (FROM, COPY --from=IMAGE, RUN --mount from=IMAGE): the
// store's, pulled when missing as Docker's FROM does, or every one pulled again under
// `build --pull`; each reference resolved once per build. The registry client is loaded only
// when something must be pulled, so a build from local images never loads it.
import { StrataError } from '../errors.js';
import type { ProgressSink } from '../registry/index.js';
import type { Image, Store } from '../store/index.js';

export type BasePullPolicy = 'always' | 'missing' | 'never';

export interface BaseImages {
  resolve(ref: string): Promise<Image>;
  /** Closes the registry connections a pull opened. */
  close(): Promise<void>;
}

export function baseImages(store: Store, policy: BasePullPolicy, progress?: ProgressSink): BaseImages {
  const seen = new Map<string, Promise<Image>>();
  let used = false;
  const pullOrFind = async (ref: string): Promise<Image> => {
    if (policy !== 'always') {
      try {
        return await store.resolveImage(ref);
      } catch (err) {
        // Not under this name: a short-name alias of the registries config may still name a local image (ensureImage).
        if (!(err instanceof StrataError) || !/^no such image/.test(err.message)) throw err;
      }
    }
    used = true;
    const { ensureImage } = await import('../registry/index.js');
    return ensureImage(ref, { store, policy, progress });
  };
  return {
    resolve(ref) {
      let p = seen.get(ref);
      if (!p) {
        p = pullOrFind(ref);
        seen.set(ref, p);
      }
      return p;
    },
    async close() {
      if (used) await (await import('../registry/index.js')).closeTransports();
    },
  };
}
