// Damage found in the store (a blob that does not match its digest, a snapshot that does not
// match its layer, a file that is not what strata wrote, something referenced that is gone):
// one line naming the image, layer or file, so that every command meeting it says what is
// damaged, and `strata system check` reports it the same way.
import { StrataError } from '../errors.js';

export class DamagedError extends StrataError {
  override readonly name = 'DamagedError';

  /**
   * `subject`: what is damaged, in the user's terms (`layer "sha256:…"`, `store index
   * "/var/lib/strata/index.json"`); `problem`: how it shows. A `missing` subject reads
   * "… is missing from the store", any other "… is damaged: PROBLEM".
   */
  constructor(
    readonly subject: string,
    readonly problem: string,
    readonly missing = false,
  ) {
    super(missing ? `${subject} is missing from the store${problem ? `: ${problem}` : ''}` : `${subject} is damaged: ${problem}`);
  }

  /** The same damage, named as part of an image (`image "localhost/app:1": layer "sha256:…" is damaged: …`). */
  of(image: string): DamagedError {
    if (this.subject.startsWith('image ')) return this;
    return new DamagedError(`image "${image}": ${this.subject}`, this.problem, this.missing);
  }
}

/** True for a DamagedError of any copy of this module (the CLI's bundles carry their own). */
export function isDamage(err: unknown): err is DamagedError {
  return err instanceof StrataError && err.name === 'DamagedError';
}

/** Re-throws a DamagedError as part of `image`; other errors unchanged. */
export function inImage(image: string): (err: unknown) => never {
  return (err: unknown) => {
    throw isDamage(err) ? err.of(image) : err;
  };
}
