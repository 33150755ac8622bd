// The image a command names, pulled when the policy says so: Docker's `--pull=missing` (the
// default of run, create and FROM), `always` (build --pull, run --pull=always) and `never`.
import { StrataError } from '../errors.js';
import { familiarName, formatReference, imageByRepoDigest, repositoryName, type Image } from '../store/index.js';
import { hasAlias, qualify } from './endpoints.js';
import { pull, type PullOptions } from './pull.js';
import { resolveImage } from './store-access.js';

export type PullPolicy = 'always' | 'missing' | 'never';

export interface EnsureOptions extends PullOptions {
  policy?: PullPolicy;
  /** Called when the image is not here and is about to be pulled (Docker's "Unable to find image ... locally"). */
  onPull?: () => void;
  /** After a pull, Docker's "Digest: ..." and "Status: ..." lines on the progress (run and create say them; a build does not). */
  status?: boolean;
}

export function parsePullPolicy(text: string | boolean | undefined): PullPolicy {
  if (text === undefined || text === '' || text === 'missing') return 'missing';
  if (text === true || text === 'always' || text === 'true') return 'always';
  if (text === false || text === 'never' || text === 'false') return 'never';
  throw new StrataError(`invalid pull policy "${String(text)}": expected always, missing or never`);
}

const isId = (text: string) => /^(sha256:)?[a-f0-9]{12,64}$/.test(text);

/**
 * The local image `text` names, if any (by name, ID, or a digest pulled before). A short name
 * with an alias in the registries config names what the alias says first, as podman's
 * short-name resolution of local images does (the alias, then the name as given).
 */
export async function localImage(o: EnsureOptions, text: string): Promise<Image | undefined> {
  const tryResolve = (t: string) => resolveImage(o.store, t).catch((err: unknown) => {
    if (err instanceof StrataError && /^no such image/.test(err.message)) return undefined;
    throw err;
  });
  if (isId(text)) return tryResolve(text);
  let ref;
  try {
    ref = qualify(text, o);
  } catch {
    return tryResolve(text);
  }
  if (!hasAlias(text, o)) {
    const direct = await tryResolve(text);
    if (direct) return direct;
  }
  if (ref.digest) {
    const id = await imageByRepoDigest(o.store, repositoryName(ref), ref.digest);
    return id ? tryResolve(id) : undefined;
  }
  return (await tryResolve(formatReference(ref))) ?? (hasAlias(text, o) ? tryResolve(text) : undefined);
}

export async function ensureImage(text: string, o: EnsureOptions): Promise<Image> {
  const policy = o.policy ?? 'missing';
  if (policy !== 'always') {
    const found = await localImage(o, text);
    if (found || policy === 'never' || isId(text)) {
      if (found) return found;
      throw new StrataError(`no such image: "${text}"`);
    }
  }
  o.onPull?.();
  try {
    const r = await pull(text, o);
    if (o.status && o.progress) {
      o.progress.line(`Digest: ${r.digest}`);
      const name = familiarName(r.reference);
      o.progress.line(r.downloaded ? `Status: Downloaded newer image for ${name}` : `Status: Image is up to date for ${name}`);
    }
    return r.image;
  } catch (err) {
    // Not here and not to be had: say both (Docker: "Unable to find image ... locally", then why).
    if (policy === 'missing' && err instanceof StrataError) throw new StrataError(`no such image: "${text}": ${err.message}`, err.exitCode, { cause: err });
    throw err;
  }
}
