// `push --all-tags`: every local tag of a repository, as the references to push one by one
// (Docker pushes each tag of a name given without one; a tag with -a is refused).
import { StrataError } from '../errors.js';
import { parseReference, repositoryName } from '../store/index.js';
import { qualify, type RegistryOptions } from './endpoints.js';
import { imageNames, type Store } from './store-access.js';

/** "host/repo:tag" for each local tag of the repository `text` names (a name without tag or digest), sorted. */
export async function localTagReferences(text: string, o: RegistryOptions & { store: Store }): Promise<string[]> {
  const ref = qualify(text, o, { defaultTag: false });
  if (ref.tag || ref.digest) throw new StrataError(`tag can't be used with --all-tags/-a: "${text}"`);
  const repo = repositoryName(ref);
  const names = (await imageNames(o.store)).filter((n) => repositoryName(parseReference(n, { defaultTag: false })) === repo);
  if (!names.length) throw new StrataError(`an image does not exist locally with the tag: "${text}"`);
  return [...new Set(names)].sort();
}
