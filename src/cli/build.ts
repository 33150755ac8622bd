// `strata build [OPTIONS] CONTEXT`: Docker's flags, progress on stderr, the image ID (or
// with -q only the ID) on stdout. The work is done by the Builder service (src/engine/builder.ts).
// The `strata` command runs a plain build line from its own bundle (build-main.ts), without
// yargs; `register` declares the same flags for the full CLI.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Argv } from 'yargs';
import {
  BuildError, Builder, JsonReporter, PlainReporter, QuietReporter, RawJsonReporter, TtyReporter, parseBuildArgs, parseCacheSpec, parseOutputSpec, parsePlatform, parseSshSpecs, renderEvent,
  type BuildOutput, type BuildRequest, type Reporter,
} from '../engine/index.js';
import { StrataError, systemCause } from '../errors.js';
import { stateRoot, normalizeTag } from '../store/index.js';
import type { RegisterCommands } from './command.js';
import { PlainTransferProgress } from './transfer-progress.js';

export interface BuildArgs {
  context: string;
  tag?: string[];
  file?: string;
  'build-arg'?: string[];
  target?: string;
  'no-cache'?: boolean;
  'no-cache-filter'?: string[];
  label?: string[];
  quiet?: boolean;
  iidfile?: string;
  network?: string;
  progress?: string;
  'metadata-file'?: string;
  secret?: string[];
  ssh?: string[];
  explain?: boolean;
  pull?: boolean;
  output?: string[];
  push?: boolean;
  platform?: string[];
  'cache-from'?: string[];
  'cache-to'?: string[];
}

export const register: RegisterCommands = (cli: Argv) =>
  cli.command<BuildArgs>(
    'build <context>',
    'Build an image from a Dockerfile',
    (y) => y
      .positional('context', { type: 'string', demandOption: true, describe: 'Context directory, or - for a tar (or Dockerfile) on stdin' })
      .option('tag', { alias: 't', type: 'string', describe: 'Name and optionally a tag (name:tag)' })
      .option('file', { alias: 'f', type: 'string', describe: 'Name of the Dockerfile (default: CONTEXT/Dockerfile); - for stdin' })
      .option('build-arg', { type: 'string', describe: 'Set build-time variables' })
      .option('target', { type: 'string', describe: 'Set the target build stage to build' })
      .option('no-cache', { type: 'boolean', describe: 'Do not use cache when building the image' })
      .option('no-cache-filter', { type: 'string', describe: 'Do not cache specified stages' })
      .option('label', { type: 'string', describe: 'Set metadata for an image' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'Suppress the build output and print image ID on success' })
      .option('iidfile', { type: 'string', describe: 'Write the image ID to the file' })
      .option('network', { type: 'string', describe: 'Networking mode for the RUN instructions: host (the default), none, or default (the default bridge network)' })
      .option('progress', { type: 'string', describe: 'Type of progress output: auto, plain, tty, json, rawjson (BuildKit\'s SolveStatus lines), quiet' })
      .option('metadata-file', { type: 'string', describe: 'Write build result metadata to a file' })
      .option('secret', { type: 'string', describe: 'Secret to expose to the build: id=mysecret,src=/local/secret' })
      .option('ssh', { type: 'string', describe: 'SSH agent socket or keys to expose to the build: default|ID[=SOCKET|KEY[,KEY]]' })
      .option('explain', { type: 'boolean', describe: "Print every step's cache-key inputs" })
      .option('pull', { type: 'boolean', describe: 'Always attempt to pull a newer version of the base images' })
      .option('output', { alias: 'o', type: 'string', describe: 'Output destination: type=local,dest=DIR | type=tar,dest=FILE | type=oci|docker,dest=FILE | type=image,name=REF,push=true (a bare DIR is type=local, - a tar on stdout)' })
      .option('platform', { type: 'string', describe: 'Target platform(s): linux/arm64, or several (comma separated) for one image each (other architectures run under qemu-user-static)' })
      .option('load', { type: 'boolean', describe: 'Shorthand for --output=type=docker: the image is in the store (it always is)' })
      .option('push', { type: 'boolean', describe: 'Shorthand for --output=type=image,push=true (the -t names)' })

      .option('cache-from', { type: 'string', describe: 'External cache sources: type=registry,ref=REG/REPO[:TAG] (with TAG: only the entries its last export named; a missing TAG is a warning) or type=local,src=DIR; a bare REG/REPO[:TAG] is type=registry' })
      .option('cache-to', { type: 'string', describe: 'Cache export destinations: type=registry,ref=REG/REPO[:TAG][,mode=min|max] (one entry per step, tagged by its key; TAG names an index of this build\'s entries) or type=local,dest=DIR' }),
    (argv) => runBuild(normalize(argv)),
  );

/** Repeatable flags are declared as plain strings (an array option would swallow CONTEXT); collect them. */
export function normalize(a: BuildArgs): BuildArgs {
  const list = (v: unknown): string[] | undefined => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String));
  // yargs hands a lone "-" positional over as "".
  const context = a.context === '' ? '-' : a.context;
  return { ...a, context, tag: list(a.tag), 'build-arg': list(a['build-arg']), 'no-cache-filter': list(a['no-cache-filter']), label: list(a.label), secret: list(a.secret), ssh: list(a.ssh), output: list(a.output), platform: list(a.platform), 'cache-from': list(a['cache-from']), 'cache-to': list(a['cache-to']) };
}

/** KEY=VALUE items; a KEY alone has the empty value (buildx's listToMap, as `--label KEY`). */
function keyValues(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf('=');
    if (eq === 0 || item === '') throw new StrataError(`invalid ${what} "${item}": expected KEY=VALUE`);
    if (eq < 0) out[item] = '';
    else out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Writes --iidfile / --metadata-file; a failure is one line naming the file. */
async function writeResultFile(file: string, what: string, text: string): Promise<void> {
  try {
    await fs.writeFile(file, text);
  } catch (err) {
    throw new StrataError(`writing ${what} "${file}": ${systemCause(err)}`);
  }
}

/**
 * `--secret` as buildx reads it: id=ID with src=PATH (type=file) or env=VAR (type=env); with
 * neither, the variable named ID if it is set, else the file ID. An env secret's value is
 * read now.
 */
function parseSecrets(list: string[] | undefined): Map<string, string | { value: string }> {
  const out = new Map<string, string | { value: string }>();
  for (const spec of list ?? []) {
    const fields = new Map<string, string>();
    for (const p of spec.split(',')) {
      const eq = p.indexOf('=');
      const key = eq < 0 ? p : p.slice(0, eq);
      if (!['id', 'src', 'source', 'env', 'type'].includes(key)) throw new StrataError(`invalid secret "${spec}": unexpected key "${key}" (expected id, src, env or type)`);
      fields.set(key === 'source' ? 'src' : key, eq < 0 ? '' : p.slice(eq + 1));
    }
    const type = fields.get('type');
    if (type !== undefined && type !== 'file' && type !== 'env') throw new StrataError(`invalid secret "${spec}": type must be file or env`);
    let src = fields.get('src');
    let env = fields.get('env');
    if (type === 'env' && !env) [env, src] = [src, undefined];
    const id = fields.get('id') || src || env;
    if (!id) throw new StrataError(`invalid secret "${spec}": expected id=ID,src=PATH or id=ID,env=VAR`);
    if (!src && !env) {
      if (process.env[id] !== undefined) env = id;
      else src = id;
    }
    if (env) {
      const value = process.env[env];
      if (value === undefined) throw new StrataError(`secret "${id}": environment variable ${env} is not set`);
      out.set(id, { value });
    } else {
      // A missing file fails now, as buildx does, not at the RUN that mounts it.
      if (!existsSync(src!)) throw new StrataError(`secret "${id}": open ${src}: no such file or directory`);
      out.set(id, path.resolve(src!));
    }
  }
  return out;
}

function reporterFor(mode: string | undefined, quiet: boolean): Reporter {
  if (quiet) return new QuietReporter(process.stderr);
  const m = mode ?? 'auto';
  if (!['auto', 'plain', 'tty', 'json', 'rawjson', 'quiet'].includes(m)) throw new StrataError(`invalid progress mode "${m}": expected auto, plain, tty, json, rawjson or quiet`);
  if (m === 'json') return new JsonReporter(process.stderr);
  if (m === 'rawjson') return new RawJsonReporter(process.stderr);
  if (m === 'quiet') return new QuietReporter(process.stderr);
  if (m === 'tty' || (m === 'auto' && process.stderr.isTTY)) return new TtyReporter(process.stderr);
  return new PlainReporter(process.stderr);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function looksLikeTar(buf: Buffer): boolean {
  return (buf[0] === 0x1f && buf[1] === 0x8b) || (buf.length >= 262 && buf.subarray(257, 262).toString('latin1') === 'ustar');
}

export async function runBuild(a: BuildArgs): Promise<void> {
  const root = stateRoot();
  const network = a.network ?? 'host';
  if (network !== 'host' && network !== 'none' && network !== 'default') throw new StrataError(`invalid network mode "${network}": expected default, host or none`);
  const quiet = !!a.quiet;
  // Bad tags fail before any work, not after the build.
  for (const t of a.tag ?? []) {
    try {
      normalizeTag(t);
    } catch (err) {
      throw new StrataError(`invalid tag "${t}": ${(err as Error).message}`);
    }
  }
  const platforms = (a.platform ?? []).flatMap((p) => p.split(',')).filter(Boolean).map(parsePlatform);
  const cacheFrom = (a['cache-from'] ?? []).map((t) => parseCacheSpec(t, 'from'));
  const cacheTo = (a['cache-to'] ?? []).map((t) => parseCacheSpec(t, 'to'));
  // Bad outputs fail before any work too.
  const outputs: BuildOutput[] = (a.output ?? []).map(parseOutputSpec);
  Builder.check({ tags: a.tag, push: a.push });
  const reporter = reporterFor(a.progress, quiet);
  // SIGINT and SIGTERM stop the build: its containers are killed and its scratch removed before
  // strata exits, as Docker's does, with 128 + the signal's number (130, 143).
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const builder = new Builder({ stateRoot: root });
  try {
    let context: BuildRequest['context'] = { dir: a.context };
    let dockerfile: BuildRequest['dockerfile'] = a.file === undefined ? undefined : { path: a.file };
    if (a.file === '-' && a.context === '-') throw new StrataError('invalid argument: can\'t use stdin for both build context and dockerfile');
    if (a.file === '-') dockerfile = { text: (await readStdin()).toString('utf8') };
    if (a.context === '-') {
      // A tar is the context; anything else is a Dockerfile, with an empty context.
      const input = await readStdin();
      context = looksLikeTar(input) ? { tar: input } : undefined;
      if (!context) dockerfile ??= { text: input.toString('utf8') };
    }
    const result = await builder.build({
      context, dockerfile, tags: a.tag ?? [], buildArgs: parseBuildArgs(a['build-arg'] ?? []), target: a.target, noCache: a['no-cache'],
      noCacheFilter: a['no-cache-filter'], labels: keyValues(a.label, 'label'), network,
      secrets: parseSecrets(a.secret), ssh: parseSshSpecs(a.ssh ?? []), signal: controller.signal,
      sourceDateEpoch: process.env.SOURCE_DATE_EPOCH ? Number(process.env.SOURCE_DATE_EPOCH) : undefined,
      explain: a.explain ? (text) => process.stderr.write(text) : undefined,
      // FROM pulls what is missing (everything, with --pull); the pull's lines go to stderr.
      cacheFrom, cacheTo, push: a.push,
      pull: a.pull ? 'always' : 'missing', pullProgress: quiet ? undefined : new PlainTransferProgress(process.stderr),
      outputs, platforms, pushProgress: quiet ? undefined : new PlainTransferProgress(process.stderr),
    }, (event) => renderEvent(event, reporter));
    reporter.info(`writing image ${result.image.id}`);
    for (const n of result.image.names) reporter.info(`naming to ${n}`);
    for (const p of result.platformImages ?? []) reporter.info(`${p.platform}: image ${p.image.id}`);
    if (a.iidfile) await writeResultFile(a.iidfile, 'image ID file', result.image.id);
    if (a['metadata-file']) {
      await writeResultFile(a['metadata-file'], 'metadata file', `${JSON.stringify({
        'containerimage.config.digest': result.image.id,
        'containerimage.digest': result.image.manifestDigest,
        'image.name': result.image.names.join(','),
        imageId: result.image.id, digest: result.image.manifestDigest, tags: result.image.names,
        seconds: result.seconds, steps: result.steps,
        ...(result.platformImages ? { platforms: result.platformImages.map((p) => ({ platform: p.platform, imageId: p.image.id, digest: p.image.manifestDigest })) } : {}),
      }, null, 2)}\n`);
    }
    reporter.info(result.summary);
    reporter.close();
    // An output on stdout (-o -) owns it.
    const stdoutTaken = outputs.some((o) => 'dest' in o && o.dest === '-');
    process.stdout.write(quiet && !stdoutTaken ? `${result.image.id}\n` : '');
  } catch (err) {
    reporter.close();
    // BuildKit's view of the failing instruction, above the one-line error.
    const machine = a.progress === 'json' || a.progress === 'rawjson';
    // Only for the Dockerfile's own failures (exit 1): strata's errors (125: a damaged store...) stay one line.
    if (err instanceof BuildError && err.snippet && err.exitCode === 1 && !stoppedBy && !machine) process.stderr.write(err.snippet);
    if (stoppedBy) throw new StrataError('build cancelled', 128 + os.constants.signals[stoppedBy], { cause: err });
    throw err instanceof StrataError || err instanceof BuildError ? err : new StrataError((err as Error).message, 1, { cause: err });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await builder.close();
  }
}
