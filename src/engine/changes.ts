// `commit -c` / `import -c`: Dockerfile instructions applied to an image config, as Docker's
// BuildFromConfig does: the changes, one per line, are parsed by the real Dockerfile parser
// (src/parser), checked against the instructions Docker accepts there, and applied by the
// build's own metadata code (StageState: ENV expansion, shell-form CMD through the image's
// SHELL, WORKDIR joins). They are parsed here, above the runtime and the store, which get the
// resulting config as data. The builder (with the parser) is loaded on demand, so the commands
// that merely import the engine do not pay for it.
import { StrataError } from '../errors.js';
import type { ContainerConfig } from '../store/index.js';

/** Docker's validCommitCommands, plus SHELL (harmless metadata; podman's --change takes it too). */
export const ALLOWED_CHANGES = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'ONBUILD', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/** Applies `changes` (Dockerfile lines) to a copy of `config`; one-line StrataError when refused. */
export async function applyChanges(config: ContainerConfig, changes: string[]): Promise<ContainerConfig> {
  if (changes.length === 0) return structuredClone(config);
  const [{ parse, ParseError }, { toCommand, loadStageState }] = await Promise.all([import('../parser/index.js'), import('../builder/index.js')]);
  const StageState = await loadStageState();
  const text = changes.join('\n');
  const parsed = (strict: boolean) => {
    try {
      return parse(text, { strict });
    } catch (err) {
      if (err instanceof ParseError) throw new StrataError(`invalid change: ${err.message}`);
      throw err;
    }
  };
  // First as BuildKit's parser accepts it (an unknown word is an instruction like any other),
  // so "RUN" and "FOO" are both refused with Docker's line; then with the full checks.
  for (const ins of parsed(false).instructions) {
    if (!ALLOWED_CHANGES.includes(ins.keyword)) throw new StrataError(`${ins.keyword.toLowerCase()} is not a valid change command`);
  }
  const state = new StageState(structuredClone(config), '\\', new Map(), {});
  for (const ins of parsed(true).instructions) {
    try {
      state.apply(toCommand(ins, 'change'));
    } catch (err) {
      const detail = (err as { detail?: string }).detail ?? (err as Error).message;
      throw new StrataError(`invalid change "${ins.original.trim()}": ${detail}`);
    }
  }
  return state.config;
}
