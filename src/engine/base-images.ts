// How a build finds its base images (FROM, COPY --from=IMAGE, RUN --mount from=IMAGE): the
// store's, pulled when missing as Docker's FROM does, or every one pulled again under
// `build --pull`; each reference resolved once per build, through the engine's one resolver
// (image-resolver.ts: short-name aliases, pull policy), as `run` resolves its image.
import { hostPlatform, platformString } from '../builder/index.js';
import type { ProgressSink, PullPolicy } from '../registry/index.js';
import type { Image, Store } from '../store/index.js';
import { ImageResolver } from './image-resolver.js';

/** Docker's `--pull` policy for base images: the resolver's. */
export type BasePullPolicy = PullPolicy;

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
  const resolver = new ImageResolver(store, async () => store);
  const host = platformString(hostPlatform());
  const pullOrFind = async (ref: string): Promise<Image> => {
    const found = policy === 'always' && !platform ? undefined : await resolver.local(ref);
    const options = { progress, ...(platform ? { platform } : {}) };
    if (!found || policy === 'never') return resolver.resolve(ref, { ...options, policy });
    if (policy === 'missing' && (!platform || isFor(found, platform))) return found;
    // The name holds another platform's image (`--platform a,b` over a multi-platform base), or
    // --pull: this platform's is pulled, and the name stays with (or goes back to) the host's
    // image. Where none can be pulled (a local-only image), the local one is used; the build
    // warns when its platform is not the one built.
    try {
      const pulled = await resolver.resolve(ref, { ...options, policy: 'always' });
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
    close: () => resolver.close(),
  };
}
