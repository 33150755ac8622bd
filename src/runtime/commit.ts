// `commit`: the container's upper dir becomes a new layer on top of its image's, and its
// configuration (with the `-c` changes, applied by the caller) the new image's, with one
// history row like Docker's.
import { StrataError } from '../errors.js';
import type { ContainerConfig, ContainerRecord, Image, ImageConfig, LayerInfo } from '../store/index.js';
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
  const config = options.config ?? imageConfigOf(record);
  let base: Image;
  try {
    base = await ctx.images.resolveImage(record.Image);
  } catch (err) {
    throw new StrataError(`committing container "${record.Name.slice(1)}": its image "${record.Image}" is no longer in the store`, 125, { cause: err });
  }
  const layer = await ctx.images.createLayerFromDir(ctx.containers.paths(record.Id).upper);
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
  return ctx.images.writeImage(imageConfig, [...baseLayers, layer], { tags: options.ref ? [options.ref] : [] });
}
