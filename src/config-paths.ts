// Where strata's user configuration lives. Kept at the bottom of the tree so that a command can
// tell cheaply (a few stats) whether a registries config exists before it loads the registry
// client, which is only needed when one does or when something must be pulled.
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

/** Whether any registries config file exists (then it may hold short-name aliases). */
export function hasRegistriesConfig(env: NodeJS.ProcessEnv = process.env): boolean {
  return registriesConfigFiles(env).some((f) => fs.existsSync(f));
}
