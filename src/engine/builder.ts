// The Builder service: builds an image from a context and a Dockerfile at a state root, and
// streams what happens as typed progress events. The context is a directory or a tar held in
// memory (`strata build -`); the Dockerfile a path or its text. Steps are looked up in and
// recorded to a BuildCache (the state root's own unless another is given).
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  build, closeHashing, eventReporter, explainText, exportOutput, hostPlatform, platformString,
  type BuildEvent, type BuildOptions, type BuildOutput, type BuildResult, type Platform,
} from '../builder/index.js';
import { StrataError } from '../errors.js';
import { randomBytes } from '../random.js';
import { RuncRunner, withDefaultNetwork, type ContainerRunner } from '../runtime/index.js';
import { appendEvent, buildScratchDir, familiarName, Lease, normalizeTag, openStore, scratchName, type BuildCache, type Store } from '../store/index.js';
import type { ProgressSink } from '../registry/index.js';
import { baseImages, type BasePullPolicy } from './base-images.js';
import { LocalBuildCache } from './build-cache.js';
import { leasedCache, leaseImage } from './build-lease.js';
import type { CacheSharingRequest } from './cache-sharing.js';

export type { BuildEvent, BuildResult, Reporter, StepOutcome, StepRecord, StepView } from '../builder/index.js';
// What a front end needs to turn its arguments into a request and the events into output.
export { parsePlatform, type Platform } from '../builder/index.js';
export {
  BuildError, JsonReporter, PlainReporter, QuietReporter, RawJsonReporter, TtyReporter, parseBuildArgs, parseOutputSpec, parseSshSpecs, renderEvent, type BuildOutput,
} from '../builder/index.js';

/** What to build: Docker's `build` options as data. */
export interface BuildRequest extends CacheSharingRequest, Pick<BuildOptions,
  'buildArgs' | 'target' | 'noCache' | 'noCacheFilter' | 'labels' | 'secrets' | 'ssh' | 'sourceDateEpoch' | 'signal' | 'concurrency'> {
  /** The context: a directory, or a tar (gzip'ed or not) in memory; none gives an empty context. */
  context?: { dir: string } | { tar: Buffer };
  /**
   * The Dockerfile: a path (relative to the working directory; with a tar context, a name
   * inside the tar), or its text. Default: Dockerfile (else dockerfile) in the context.
   */
  dockerfile?: { path: string } | { text: string };
  tags?: string[];
  /**
   * Network of RUN steps (BuildKit's): the host's (the default), none, or `default`, the state
   * root's default bridge network. `RUN --network=default` means the build's.
   */
  network?: 'host' | 'none' | 'default';
  /** Receives every step's key inputs, readable (`--explain`), before any step runs. */
  explain?: (text: string) => void;
  /** Base images: pulled when missing (the default, as Docker's FROM), always (`--pull`), or never. */
  pull?: BasePullPolicy;
  /** Where a pull's progress goes. */
  pullProgress?: ProgressSink;
  /** `--output`: where the image also goes once built (a directory, a tar, an archive, a registry). */
  outputs?: BuildOutput[];
  /** Where an output with dest=- writes (default: process.stdout). */
  stdout?: NodeJS.WritableStream;
  /** A push's progress (type=image,push=true). */
  pushProgress?: ProgressSink;
  /**
   * `--platform`: what to build for (default: the host's). Several build one image each; the
   * tags name the host's (else the first), outputs take them all (an index in an oci archive
   * or a push).
   */
  platforms?: Platform[];
}

/** A build's result; with several platforms, every platform's image (the result's is among them). */
export interface MultiBuildResult extends BuildResult {
  platformImages?: { platform: string; image: BuildResult['image'] }[];
}

export interface BuilderOptions {
  stateRoot: string;
  store?: Store;
  runner?: ContainerRunner;
  cache?: BuildCache;
}

export class Builder {
  constructor(private readonly o: BuilderOptions) {}

  /** What a request must hold before any work (a front end may ask before it reads its input). */
  static check(request: Pick<BuildRequest, 'tags' | 'push'>): void {
    if (request.push && !request.tags?.length) throw new StrataError('--push needs a name to push to: -t REGISTRY/REPOSITORY[:TAG]');
  }

  /** Builds and names the image; `onEvent` receives the progress as it happens. */
  async build(request: BuildRequest, onEvent: (event: BuildEvent) => void = () => undefined): Promise<MultiBuildResult> {
    Builder.check(request);
    const root = this.o.stateRoot;
    const cleanups: (() => Promise<unknown>)[] = [];
    try {
      let contextDir: string;
      const ctx = request.context;
      if (ctx && 'dir' in ctx) {
        const st = await fs.stat(ctx.dir).catch(() => undefined);
        if (!st?.isDirectory()) throw new StrataError(`unable to prepare context: path "${ctx.dir}" not found`, 1);
        contextDir = ctx.dir;
      } else {
        // Named after this process: a later command removes what a killed one left (store/leftovers.ts).
        contextDir = scratchName(buildScratchDir(root), `ctx-${randomBytes(6).toString('hex')}`);
        await fs.mkdir(contextDir, { recursive: true });
        cleanups.push(() => fs.rm(contextDir, { recursive: true, force: true }));
        if (ctx) {
          const tar = await import('tar');
          await pipeline(Readable.from([ctx.tar]), tar.x({ cwd: contextDir, preservePaths: false, strict: true }));
        }
      }
      const dockerfile = await readDockerfile(request.dockerfile, contextDir, !!ctx && 'tar' in ctx);
      const store = this.o.store ?? (await openStore(root));
      // What the build stands on stays while it runs, whatever rmi or prune do meanwhile.
      const lease = Lease.create(root, 'build');
      cleanups.push(() => lease.release());
      const runner = this.o.runner ?? buildRunner(root);
      const platforms = request.platforms?.length ? request.platforms : [undefined];
      // --cache-from / --cache-to: steps looked up beyond the state root, exported after; that
      // code (and the registry client under it) is loaded only by a build that shares a cache.
      const shares = !!request.cacheFrom?.length || !!request.cacheTo?.length;
      const sharing = shares ? (await import('./cache-sharing.js')).CacheSharing.open(request, new LocalBuildCache(root), store) : undefined;
      if (sharing && platforms.length > 1) throw new StrataError('--cache-from and --cache-to take one platform at a time');
      if (sharing) cleanups.push(() => sharing.close());
      // --push: through the shared cache when there is one (without loading what stayed in it,
      // buildx's way), else as an image output to the tags.
      const outputs: BuildOutput[] = [...(request.outputs ?? []), ...(request.push && !sharing ? [{ type: 'image' as const, names: [], push: true, insecure: false }] : [])];
      const host = platformString(hostPlatform());
      const primary = Math.max(0, platforms.findIndex((p) => p && platformString(p) === host));
      const results: BuildResult[] = [];
      let nextId = 1;
      const counter = () => nextId++;
      // One resolver per platform asked for (the build's, a stage's FROM --platform): each
      // resolves a name once, and pulls for its platform.
      const resolvers = new Map<string, ReturnType<typeof baseImages>>();
      const resolve = async (ref: string, p: Platform) => {
        const key = platformString(p);
        let bases = resolvers.get(key);
        if (!bases) {
          bases = baseImages(store, request.pull ?? 'missing', request.pullProgress, key === host && !request.platforms?.length ? undefined : key);
          resolvers.set(key, bases);
          cleanups.push(() => bases!.close());
        }
        return leaseImage(lease, store, ref, await bases.resolve(ref));
      };
      for (const [i, platform] of platforms.entries()) {
        results.push(await build({
          platform, resolveImage: resolve, stepLabels: platforms.length > 1 ? { prefix: platformString(platform!), nextId: counter } : undefined,
          stateRoot: root, store: sharing?.cache.storeView() ?? store, runner: request.network === 'default' ? withDefaultNetwork(runner, root) : runner,
          cache: leasedCache(sharing?.cache ?? this.o.cache ?? new LocalBuildCache(root), lease), reporter: eventReporter(onEvent), contextDir, dockerfile,
          tags: i === primary ? request.tags ?? [] : [], buildArgs: request.buildArgs, target: request.target, noCache: request.noCache, noCacheFilter: request.noCacheFilter,
          labels: request.labels, network: request.network === 'default' ? 'private' : request.network ?? 'host', secrets: request.secrets, ssh: request.ssh, signal: request.signal,
          statCache: !!ctx && 'dir' in ctx, sourceDateEpoch: request.sourceDateEpoch, concurrency: request.concurrency,
          onStepParent: sharing?.stepParents(dockerfile.name),
          explain: request.explain || sharing ? (stages) => {
            sharing?.prepared(stages, dockerfile.name);
            request.explain?.(explainText(stages));
          } : undefined,
        }));
      }
      const result: MultiBuildResult = { ...results[primary] };
      if (platforms.length > 1) {
        result.platformImages = results.map((r, i) => ({ platform: platformString(platforms[i]!), image: r.image }));
        result.steps = results.flatMap((r) => r.steps);
        result.seconds = results.reduce((sum, r) => sum + r.seconds, 0);
        const cached = result.steps.filter((st) => st.cached).length;
        result.summary = `${result.steps.length} steps for ${platforms.length} platforms, ${cached} cached, ${result.steps.length - cached} built in ${result.seconds.toFixed(1)}s`;
      }
      await sharing?.finish(onEvent);
      await sharing?.push(result.image, onEvent);
      // The event log (`strata events`): the names the build gave.
      for (const t of request.tags ?? []) appendEvent(root, { Type: 'image', Action: 'tag', Actor: { ID: result.image.id, Attributes: { name: familiarName(normalizeTag(t)) } } });
      for (const output of outputs) {
        await exportOutput(result.image, output, {
          store, stdout: (request.stdout ?? process.stdout) as import('node:stream').Writable, tags: result.image.names, progress: request.pushProgress,
          platformImages: result.platformImages,
        });
      }
      return result;
    } finally {
      for (const c of cleanups) await c().catch(() => undefined);
    }
  }

  /** Stops the hashing threads a build started (the process can then exit at once). */
  async close(): Promise<void> {
    await closeHashing();
  }
}

/** RUN steps' runner: their containers die with the build, their bundles are among its scratch dirs. */
function buildRunner(root: string): ContainerRunner {
  return new RuncRunner({ runcRoot: path.join(root, 'runc'), tmpDir: buildScratchDir(root), diesWithCaller: true });
}

async function readDockerfile(given: BuildRequest['dockerfile'], contextDir: string, inTar: boolean): Promise<BuildOptions['dockerfile']> {
  if (given && 'text' in given) return { text: given.text, name: 'Dockerfile' };
  // With a tar context, the path names a file inside the tar.
  const file = given ? (inTar ? path.join(contextDir, path.normalize(`/${given.path}`)) : path.resolve(given.path)) : await defaultDockerfile(contextDir);
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new StrataError(`failed to read dockerfile: open ${given?.path ?? (inTar ? 'Dockerfile' : path.join(contextDir, 'Dockerfile'))}: no such file or directory`, 1);
  });
  return { text, name: path.basename(file), path: file };
}

async function defaultDockerfile(contextDir: string): Promise<string> {
  for (const name of ['Dockerfile', 'dockerfile']) {
    const p = path.resolve(contextDir, name);
    if (await fs.stat(p).then((s) => s.isFile(), () => false)) return p;
  }
  return path.resolve(contextDir, 'Dockerfile');
}
