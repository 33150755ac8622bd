// Where strata's user configuration lives. Kept at the bottom of the tree so that a command can
// tell cheaply (a few small reads) whether a registries config may alias a name before it loads
// the registry client, which is only needed then or when something must be pulled.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function configHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
}

/** The registries config files, in the order they are merged (a later one adds to the earlier). */
export function registriesConfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  return ['/etc/strata/registries.json', path.join(configHome(env), 'strata', 'registries.json'), ...(env.STRATA_REGISTRIES_CONFIG ? [path.resolve(env.STRATA_REGISTRIES_CONFIG)] : [])];
}

/**
 * Whether a registries config may hold a short-name alias for the name `text` starts with: a
 * short name (no "/") that some config file mentions as a JSON string. Cheap and conservative
 * (a mention elsewhere says yes too); the registry's config reader decides for real.
 */
export function mayHaveAlias(text: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const name = text.split('@')[0]!;
  const colon = name.lastIndexOf(':');
  const repo = colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
  if (repo.includes('/') || repo === '') return false;
  const quoted = JSON.stringify(repo);
  return registriesConfigFiles(env).some((f) => {
    try {
      return fs.readFileSync(f, 'utf8').includes(quoted);
    } catch {
      return false;
    }
  });
}
