// `pull --all-tags`: every tag of a repository, as the references to pull one by one (the
// registry's tags list, from the first endpoint that answers it: mirrors first, as pull).
import { StrataError } from '../errors.js';
import { formatReference, repositoryName } from '../store/index.js';
import { Repository } from './client.js';
import { pullTransports, qualify, type RegistryOptions } from './endpoints.js';
import { RegistryError } from './errors.js';

/** "host/repo:tag" for each tag of the repository `text` names (a name without tag or digest). */
export async function allTagReferences(text: string, o: RegistryOptions = {}): Promise<string[]> {
  const ref = qualify(text, o, { defaultTag: false });
  if (ref.tag || ref.digest) throw new StrataError(`tag can't be used with --all-tags/-a: "${text}"`);
  const endpoints = pullTransports(ref, o);
  try {
    for (let i = 0; ; i++) {
      try {
        const tags = await new Repository(endpoints[i], ref.path).tags();
        if (tags.length === 0) throw new StrataError(`repository "${repositoryName(ref)}" has no tags`);
        return tags.map((tag) => formatReference({ ...ref, tag }));
      } catch (err) {
        const last = i === endpoints.length - 1;
        if (last || !(err instanceof RegistryError) || (err.status !== undefined && !err.notFound)) throw err;
      }
    }
  } catch (err) {
    if (err instanceof StrataError) throw new StrataError(`listing the tags of "${repositoryName(ref)}": ${err.message}`, err.exitCode, { cause: err });
    throw err;
  }
}
