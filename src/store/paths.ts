import os from 'node:os';
import path from 'node:path';

/**
 * The state root: $STRATA_ROOT, else /var/lib/strata as root, else $XDG_DATA_HOME/strata
 * (defaulting to ~/.local/share/strata).
 */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STRATA_ROOT) return path.resolve(env.STRATA_ROOT);
  if (process.getuid?.() === 0) return '/var/lib/strata';
  const dataHome = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(dataHome, 'strata');
}
