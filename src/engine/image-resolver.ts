// The one way a command finds the image a user names: FROM (base-images.ts), run/create
// (containers-create.ts) and the local-only image commands (tag, rmi, inspect, history, save).
//
// - Local lookup follows podman's short-name resolution: a short name with an alias in the
//   registries config names the alias's image first, then the name as given; so `run node`,
//   `FROM node` and `rmi node` name the same image. Unless a registries config mentions the
//   short name (a few small reads) it is the store's own lookup, without loading the registry client.
// - Pull policy as Docker's `--pull`: missing (default: pulled when not here), always, never.
import { mayHaveAlias } from '../config-paths.js';
import { StrataError } from '../errors.js';
import type { ProgressSink, PullPolicy } from '../registry/index.js';
import { formatReference, type Image, type ImageStore, type Store } from '../store/index.js';

export type { PullPolicy };

export interface ResolveImageOptions {
  policy?: PullPolicy;
  /** "os/arch[/variant]" a pull asks the registry for (default: the host's). */
  platform?: string;
  /** Where a pull's progress goes; a function is called only when something is pulled. */
  progress?: ProgressSink | (() => ProgressSink | undefined | Promise<ProgressSink | undefined>);
  /** Called when the image is about to be pulled because it is missing ("Unable to find image ... locally"). */
  onPull?: () => void;
  /** Whether a local image will do under `missing` (e.g. its platform); a refused one is pulled again. */
  accept?: (image: Image) => boolean;
  /** After a pull, Docker's "Digest:" and "Status:" lines on the progress (run, create). */
  status?: boolean;
}

type Registry = typeof import('../registry/index.js');

const isNoSuchImage = (err: unknown) => err instanceof StrataError && /^no such image/.test(err.message);

export function checkPullPolicy(policy: string): PullPolicy {
  if (policy === 'always' || policy === 'missing' || policy === 'never') return policy;
  throw new StrataError(`invalid pull option "${policy}": must be one of "always", "missing" or "never"`);
}

export class ImageResolver {
  #registry?: Promise<Registry>;
  #full?: Promise<Store>;
  readonly #fullOpen: () => Promise<Store>;
  readonly #env: NodeJS.ProcessEnv;

  /** `lookup`: the store's fast lookup; `full`: the store a pull writes to (opened when needed). */
  constructor(private readonly lookup: ImageStore, full: () => Promise<Store>, env: NodeJS.ProcessEnv = process.env) {
    this.#fullOpen = full;
    this.#env = env;
  }

  private registry(): Promise<Registry> {
    return (this.#registry ??= import('../registry/index.js'));
  }

  private store(): Promise<Store> {
    return (this.#full ??= this.#fullOpen());
  }

  /** The local image `text` names (name, alias, ID, or a digest pulled before), or undefined. */
  async local(text: string): Promise<Image | undefined> {
    if (!mayHaveAlias(text, this.#env)) return this.lookup.resolveImage(text).catch((err: unknown) => (isNoSuchImage(err) ? undefined : Promise.reject(err)));
    return (await this.registry()).localImage({ store: await this.store() }, text);
  }

  /**
   * The name the store knows for the user's `text`, for the local-only commands (tag, rmi,
   * inspect, history, save): the alias's full name when an alias names a local image (podman),
   * else `text` itself, so that Docker's rules (rmi untags the name given) apply to that name.
   */
  async localName(text: string): Promise<string> {
    if (!mayHaveAlias(text, this.#env)) return text;
    const reg = await this.registry();
    let full: string;
    try {
      const ref = reg.qualify(text);
      if (ref.digest) return text;
      full = formatReference(ref);
    } catch {
      return text;
    }
    if (full === text) return text;
    return (await this.lookup.resolveImage(full).then(() => true, () => false)) ? full : text;
  }

  /** Like local(), but a missing image is Docker's `no such image: "x"` (exit 125). */
  async localOrThrow(text: string): Promise<Image> {
    const found = await this.local(text);
    if (!found) throw new StrataError(`no such image: "${text}"`);
    return found;
  }

  /** The image under the pull policy: the local one when it will do, else pulled. */
  async resolve(text: string, o: ResolveImageOptions = {}): Promise<Image> {
    const policy = checkPullPolicy(o.policy ?? 'missing');
    const found = policy === 'always' ? undefined : await this.local(text);
    if (found && (policy === 'never' || !o.accept || o.accept(found))) return found;
    if (!found && policy === 'never') throw new StrataError(`no such image: "${text}"`);
    if (!found) o.onPull?.();
    const reg = await this.registry();
    const progress = typeof o.progress === 'function' ? await o.progress() : o.progress;
    return reg.ensureImage(text, { store: await this.store(), policy: found ? 'always' : policy, progress, status: o.status, ...(o.platform ? { platform: o.platform } : {}) });
  }

  /** Whether the registry client was loaded (a pull, or aliases to read). */
  get usedRegistry(): boolean {
    return this.#registry !== undefined;
  }

  /** Closes the registry connections a pull opened. */
  async close(): Promise<void> {
    if (this.#registry) await (await this.#registry).closeTransports();
  }
}
