// The builder folder's public API: `build()` (parse, plan, prepare the keys, execute, write the
// image), its options, progress reporters and errors, and the instruction metadata code that
// `commit -c` / `import -c` reuse (toCommand, StageState).
// Every command that imports the engine loads this file (the engine re-exports the reporters,
// errors and flag parsers): what only a build, an export or `commit -c` uses (the planner, the
// executor, the Dockerfile parser under them) is loaded by the function that needs it.
import type { Dockerfile } from '../parser/index.js';
import type { BuildOptions, BuildResult } from './build.js';
import type { ExportOptions } from './output.js';
import type { BuildOutput } from './output-spec.js';
import type { Image } from '../store/index.js';
import type { StageState } from './stage-state.js';

export type { BuildOptions, BuildResult } from './build.js';

/** Parses, plans and executes a Dockerfile, and writes the image (./build.ts). */
export async function build(o: BuildOptions): Promise<BuildResult> {
  return (await import('./build.js')).build(o);
}

/** The Dockerfile's instructions; a syntax error is a BuildError naming `name` (./build.ts). */
export async function parseDockerfile(text: string, name: string): Promise<Dockerfile> {
  return (await import('./build.js')).parseDockerfile(text, name);
}

/** The build's metadata code (ENV expansion, SHELL, WORKDIR...), which needs the parser's word expansion. */
export async function loadStageState(): Promise<typeof StageState> {
  return (await import('./stage-state.js')).StageState;
}
export type { StageState } from './stage-state.js';

/** Sends a built image where `output` says (./output.ts). */
export async function exportOutput(image: Image, output: BuildOutput, o: ExportOptions): Promise<void> {
  return (await import('./output.js')).exportOutput(image, output, o);
}

/** Stops the hashing threads a build started (./context.ts). */
export async function closeHashing(): Promise<void> {
  return (await import('./context.js')).closeHashing();
}
export { BuildError, type SourceRef } from './errors.js';
export {
  eventReporter, JsonReporter, PlainReporter, QuietReporter, renderEvent, type BuildEvent, type Reporter, type StepOutcome, type StepView,
} from './progress.js';
export { TtyReporter } from './progress-tty.js';
export { RawJsonReporter } from './progress-rawjson.js';
export { explainText } from './explain.js';
export { hostPlatform, parseBuildArgs, platformString, type Platform } from './args.js';
export { ensureEmulation, needsEmulation, parsePlatform } from './emulation.js';
export { parseSshSpecs, type SshSpecs } from './ssh-mount.js';
export { toCommand, type Command } from './instructions.js';
export { parseOutputSpec, type BuildOutput } from './output-spec.js';
export type { ExportOptions } from './output.js';
export type { PreparedStage, StepParent } from './prepare.js';
export type { StepRecord } from './executor.js';
export { parseIgnoreFile, type IgnoreMatcher } from './dockerignore.js';
