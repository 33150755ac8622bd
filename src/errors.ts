// Errors that strata reports to the user as one line. The CLI formats them once
// (src/cli/main.ts); lower layers only throw.

/** An error in strata's own operation or in what the user asked of it: exit code 125. */
export class StrataError extends Error {
  override readonly name: string = 'StrataError';
  constructor(
    message: string,
    readonly exitCode: number = 125,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Builds a message in the house style: lower case, the object quoted, the cause after a colon. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
