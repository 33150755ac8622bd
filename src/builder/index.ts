// The builder folder's public API: `build()` (parse, plan, prepare the keys, execute, write the
// image), its options, progress reporters and errors, and the instruction metadata code that
// `commit -c` / `import -c` reuse (toCommand, StageState).
export { build, parseDockerfile, type BuildOptions, type BuildResult } from './build.js';
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
export { closeHashing } from './context.js';
export { toCommand, type Command } from './instructions.js';
export { StageState } from './stage-state.js';
export { exportOutput, parseOutputSpec, type BuildOutput, type ExportOptions } from './output.js';
export type { PreparedStage, StepParent } from './prepare.js';
export type { StepRecord } from './executor.js';
export { parseIgnoreFile, type IgnoreMatcher } from './dockerignore.js';
