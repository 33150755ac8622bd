// Errors of the build engine. Anything tied to an instruction carries its Dockerfile line;
// the message is formatted once here, the way the CLI prints it: `Dockerfile:LINE: why`.
import { StrataError } from '../errors.js';
import { isDamage } from '../store/index.js';

/**
 * A build failure: exit code 1 (as `docker build`), with the Dockerfile line when known; 125
 * when its cause is damage found in the store (strata's own error, as every command reports it).
 */
export class BuildError extends StrataError {
  override readonly name: string = 'BuildError';
  constructor(
    readonly detail: string,
    readonly location?: { file: string; line: number },
    options?: { cause?: unknown; exitCode?: number },
  ) {
    super(location ? `${location.file}:${location.line}: ${detail}` : detail, options?.exitCode ?? (isDamage(options?.cause) ? 125 : 1), options);
  }
}

/** Source position of an instruction, for messages. */
export interface SourceRef {
  file: string;
  line: number;
}

export const errors = {
  unknownFlag: (keyword: string, flag: string) => `unknown flag: ${flag} for ${keyword.toLowerCase()}`,
  flagNeedsValue: (flag: string) => `missing a value on flag: ${flag}`,
  flagTakesNoValue: (flag: string) => `boolean flag "${flag}" does not take a value`,
  badArgCount: (keyword: string, want: string) => `${keyword} requires ${want}`,
  unknownStage: (name: string) => `stage "${name}" not found`,
  stageCycle: (names: string[]) => `circular dependency between stages: ${names.map((n) => `"${n}"`).join(' -> ')}`,
  noSuchTarget: (name: string) => `target stage "${name}" could not be found`,
  /** A source a COPY, an ADD or a RUN --mount names that the context (or stage) lacks. */
  copyNotFound: (kind: string, src: string) => `${kind === 'RUN' ? 'RUN --mount' : kind} failed: file not found in build context: "${src}"`,
  noFrom: () => 'no build stage in current context',
  badStageName: (name: string) => `invalid name for build stage: "${name}", name can't start with a number or contain symbols`,
  duplicateStage: (name: string) => `duplicate stage name "${name}"`,
} as const;
