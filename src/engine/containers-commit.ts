// `commit`: a new image from a container's changes. A running container is frozen while its
// upper dir is packed (Docker's default), noted first so that a sweep thaws it if this process
// is killed meanwhile; `-c` changes are checked before anything is paused or packed.
import { commitContainer, imageConfigOf, type ContainerContext } from '../runtime/index.js';
import type { ContainerRecord, Image } from '../store/index.js';
import { applyChanges } from './changes.js';
import { whileFrozen } from './containers-ops.js';

export interface CommitRequest {
  /** The new image's name (none: untagged). */
  ref?: string;
  message?: string;
  author?: string;
  /** `-c` Dockerfile instructions for the new image's config. */
  changes?: string[];
  /** Freeze a running container while its files are packed (Docker's default: true). */
  pause?: boolean;
}

export async function commitOne(ctx: ContainerContext, record: ContainerRecord, request: CommitRequest = {}): Promise<Image> {
  // Checked before the container is paused and its files packed.
  const config = await applyChanges(imageConfigOf(record), request.changes ?? []);
  const commit = () => commitContainer(ctx, record, { message: request.message, author: request.author, config, ref: request.ref });
  // As Docker: a running container is frozen while its upper dir is packed, for a consistent layer.
  return request.pause === false ? commit() : whileFrozen(ctx, record, commit);
}
