// `commit`: the container's upper dir becomes a new layer on top of its image's, and its
// configuration (with the `-c` changes, applied by the caller) the new image's, with one
// history row like Docker's.
import { StrataError, writing } from '../errors.js';
import { failpoint } from '../failpoint.js';
import { isDigest, Lease, type ContainerConfig, type ContainerRecord, type Image, type ImageConfig, type LayerInfo } from '../store/index.js';
import type { ContainerContext } from './foreground.js';

export interface CommitOptions {
  message?: string;
  author?: string;
  /** The new image's container config (default: the container's own, imageConfigOf). */
  config?: ContainerConfig;
  /** REPO[:TAG] to tag the new image with. */
  ref?: string;
}

/** The image-config part of a container's configuration (what an image can carry). */
export function imageConfigOf(record: ContainerRecord): ContainerConfig {
  const c = record.Config;
  const out: ContainerConfig = {
    User: c.User, ExposedPorts: c.ExposedPorts, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd,
    Volumes: c.Volumes ?? undefined, WorkingDir: c.WorkingDir, Labels: c.Labels, StopSignal: c.StopSignal,
    Healthcheck: c.Healthcheck, Shell: c.Shell, OnBuild: c.OnBuild,
  };
  for (const key of Object.keys(out) as Array<keyof ContainerConfig>) if (out[key] === undefined) delete out[key];
  return out;
}

export async function commitContainer(ctx: ContainerContext, record: ContainerRecord, options: CommitOptions): Promise<Image> {
  // A lease (store/leases.ts) holds the base image's blobs and the new layer until the image is
  // in the index, so a collection meanwhile (`image prune -a`, `rmi -f` of the base) keeps them.
  const lease = Lease.create(ctx.images.root, 'commit');
  try {
    return await commitLeased(ctx, record, options, lease);
  } finally {
    await lease.release();
  }
}

async function commitLeased(ctx: ContainerContext, record: ContainerRecord, options: CommitOptions, lease: Lease): Promise<Image> {
  const config = options.config ?? imageConfigOf(record);
  const gone = (err: unknown) => new StrataError(`committing container "${record.Name.slice(1)}": its image "${record.Image}" is no longer in the store`, 125, { cause: err });
  let base: Image;
  try {
    base = await ctx.images.resolveImage(record.Image);
  } catch (err) {
    throw gone(err);
  }
  const held = [base.id, base.manifestDigest, ...base.manifest.layers.map((l) => l.digest), ...base.config.rootfs.diff_ids].filter(isDigest);
  // Still named after the lease holds it: then no collection removed its blobs in between.
  await lease.add(held, () => ctx.images.resolveImage(base.id).catch((err: unknown) => Promise.reject(gone(err))));
  const name = record.Name.slice(1);
  const layer = await writing(`the layer of container "${name}"`, () => ctx.images.createLayerFromDir(ctx.containers.paths(record.Id).upper));
  await lease.add([layer.diffId]); // just written: young until the lease holds it
  failpoint('commit.layer-written');
  const baseLayers: LayerInfo[] = base.manifest.layers.map((d, i) => ({
    diffId: base.config.rootfs.diff_ids[i] ?? d.digest, digest: d.digest, size: d.size, mediaType: d.mediaType,
  }));
  const created = new Date().toISOString();
  const imageConfig: ImageConfig = {
    ...base.config,
    created,
    config,
    rootfs: { type: 'layers', diff_ids: [...base.config.rootfs.diff_ids, layer.diffId] },
    history: [
      ...(base.config.history ?? []),
      {
        created,
        created_by: (record.Config.Cmd ?? []).join(' '),
        ...(options.author ? { author: options.author } : {}),
        ...(options.message ? { comment: options.message } : {}),
      },
    ],
  };
  if (options.author) imageConfig.author = options.author;
  else delete imageConfig.author;
  return writing(`the image of container "${name}"`, () => ctx.images.writeImage(imageConfig, [...baseLayers, layer], { tags: options.ref ? [options.ref] : [] }));
}
