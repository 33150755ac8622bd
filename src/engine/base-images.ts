// How a build finds its base images (FROM, COPY --from=IMAGE, RUN --mount from=IMAGE): the
// store's, pulled when missing as Docker's FROM does, or every one pulled again under
// `build --pull`; each reference resolved once per build. The registry client is loaded only
// when something must be pulled, so a build from local images never loads it.
import { hostPlatform, platformString } from '../builder/index.js';
import { StrataError } from '../errors.js';
import type { ProgressSink } from '../registry/index.js';
import type { Image, Store } from '../store/index.js';

export type BasePullPolicy = 'always' | 'missing' | 'never';

export interface BaseImages {
  resolve(ref: string): Promise<Image>;
  /** Closes the registry connections a pull opened. */
  close(): Promise<void>;
}

/** Whether `image` is for `platform` ("os/arch[/variant]"; a variant counts only when given). */
function isFor(image: Image, platform: string): boolean {
  const [os, arch, variant] = platform.split('/');
  const c = image.config;
  return (c.os ?? 'linux') === os && c.architecture === arch && (!variant || c.variant === variant);
}

/** `platform` ("linux/arm64"): what a pull asks the registry for (default: the host's). */
export function baseImages(store: Store, policy: BasePullPolicy, progress?: ProgressSink, platform?: string): BaseImages {
  const seen = new Map<string, Promise<Image>>();
  let used = false;
  const host = platformString(hostPlatform());
  const pullOrFind = async (ref: string): Promise<Image> => {
    let found: Image | undefined;
    try {
      found = await store.resolveImage(ref);
    } catch (err) {
      // Not under this name: a short-name alias of the registries config may still name a local image (ensureImage).
      if (!(err instanceof StrataError) || !/^no such image/.test(err.message)) throw err;
    }
    if (found && (policy === 'never' || (policy === 'missing' && (!platform || isFor(found, platform))))) return found;
    used = true;
    const { ensureImage } = await import('../registry/index.js');
    if (!found) return ensureImage(ref, { store, policy, progress, ...(platform ? { platform } : {}) });
    // The name holds another platform's image (`--platform a,b` over a multi-platform base), or
    // --pull: this platform's is pulled, and the name stays with (or goes back to) the host's
    // image. Where none can be pulled (a local-only image), the local one is used; the build
    // warns when its platform is not the one built.
    try {
      const pulled = await ensureImage(ref, { store, policy: 'always', progress, ...(platform ? { platform } : {}) });
      if (platform && isFor(found, host) && !isFor(pulled, host)) for (const name of found.names) await store.tag(found.id, name);
      return pulled;
    } catch (err) {
      if (policy === 'always') throw err;
      return found;
    }
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
