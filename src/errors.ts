// Errors that strata reports to the user as one line. The CLI formats them once
// (src/cli/main.ts); lower layers only throw.

/** Marks strata's errors, whichever copy of this module made them. */
const BRAND = Symbol.for('strata.StrataError');

/** An error in strata's own operation or in what the user asked of it: exit code 125. */
export class StrataError extends Error {
  override readonly name: string = 'StrataError';
  constructor(
    message: string,
    readonly exitCode: number = 125,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    (this as unknown as Record<symbol, boolean>)[BRAND] = true;
  }

  /**
   * The CLI's bundles and the ES modules they import (scripts/bundle-cli.mjs) each have a copy of
   * this class: `err instanceof StrataError` holds for the other copy's errors too.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return this === StrataError && typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

const NOT_FOUND = Symbol.for('strata.NotFound');

/**
 * A container, image or network the user named that does not exist (Docker's errdefs.NotFound):
 * `rm -f`, `rmi -f` and `network rm -f` go on past it, as Docker's CLI.
 */
export class NotFoundError extends StrataError {
  override readonly name: string = 'NotFoundError';
  constructor(message: string) {
    super(message);
    (this as unknown as Record<symbol, boolean>)[NOT_FOUND] = true;
  }
}

/** Whether ERR is a NotFoundError, from whichever copy of this module (see StrataError). */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[NOT_FOUND] === true;
}

/** Builds a message in the house style: lower case, the object quoted, the cause after a colon. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * A system error's cause in words, without the paths it names: "ENOSPC: no space left on
 * device, write '/tmp/x'" gives "no space left on device" (internal paths stay internal).
 */
export function systemCause(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const m = typeof e?.message === 'string' ? /^E[A-Z0-9]+: ([^,]+)/.exec(e.message) : null;
  if (m) return m[1]!;
  return err instanceof Error ? err.message : String(err);
}

/** True when `err`, or an error it was caused by, says that the disk (or a quota) is full. */
export function isNoSpace(err: unknown): boolean {
  for (let e = err, depth = 0; e !== null && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}

const NO_SPACE = 'no space left on device';

/**
 * A full disk met while writing `what` (in the user's terms: "the layer of step 3/5 (RUN ...)",
 * never an internal path), as one line with exit 125; undefined when `err` is something else.
 * An error that already says what could not be written is kept: the innermost knows best.
 * `full` overrides the test of `err` (a failure seen to come with a full disk, e.g. diskFull()).
 */
export function noSpaceError(what: string, err: unknown, full = isNoSpace(err)): StrataError | undefined {
  if (!full) return undefined;
  if (err instanceof StrataError && err.message.includes(`${NO_SPACE}: `)) return err;
  return new StrataError(`${NO_SPACE}: writing ${what}`, 125, { cause: err });
}

/** Runs `fn`; a full disk becomes noSpaceError(what). */
export async function writing<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw noSpaceError(what, err) ?? err;
  }
}

/** True when the filesystem of `dir` has (almost) no room left (under 1 MiB): what a failed write there most likely met. */
export async function diskFull(dir: string): Promise<boolean> {
  const { statfs } = await import('node:fs/promises');
  const st = await statfs(dir).catch(() => undefined);
  return !!st && st.bavail * st.bsize < 1024 * 1024;
}

/**
 * Runs `fn`; a system error it throws becomes one line naming what was being done ("writing
 * "x.tar": no such file or directory"), never an internal path. strata's own errors pass as
 * they are, and so does EPIPE: a reader that went away ends the command quietly (cli/report.ts).
 */
export async function describedFailure<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StrataError || (err as NodeJS.ErrnoException).code === 'EPIPE') throw err;
    throw new StrataError(`${what}: ${systemCause(err)}`, 125, { cause: err });
  }
}
