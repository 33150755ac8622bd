import { isNoSpace, StrataError } from '../errors.js';
import { isDamage, openStore, type Store } from '../store/index.js';

/**
 * Runs an image command on the store. Image errors exit 1, as Docker's daemon errors do; usage
 * errors and damage found in the store and a full disk (strata's own trouble) keep 125.
 */
export async function imageCommand(fn: (store: Store) => Promise<void>): Promise<void> {
  try {
    await fn(await openStore());
  } catch (err) {
    if (err instanceof StrataError && err.exitCode === 125 && !isDamage(err) && !isNoSpace(err)) throw new StrataError(err.message, 1);
    throw err;
  }
}
