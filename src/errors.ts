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
