// The responder process's work, shared by its two entries: start.cjs (from the dns bundle through
// a V8 code cache) and main.js (plain ES modules, when the bundle is stale). Once it listens it
// records itself (info.ts) and says "ready" on stdout, or why not on stderr, and then runs on its own.
import { NetworkStore } from '../../../store/index.js';
import { recordSelf } from './info.js';
import { Responder } from './responder.js';

async function serve(root: string | undefined, networkId: string | undefined): Promise<void> {
  if (!root || !networkId) throw new Error('usage: start.cjs ROOT NETWORK_ID');
  const store = new NetworkStore(root);
  const net = store.get(networkId);
  const responder = new Responder(store, net);
  await responder.listen();
  recordSelf(store, networkId);
  process.stdout.write('ready\n');
  const leave = () => {
    responder.close();
    process.exit(0);
  };
  process.on('SIGTERM', leave);
  process.on('SIGINT', leave);
  // Whoever started us stops reading; nothing is written to those pipes any more.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  responder.watchIdle(leave);
}

/** Runs the responder of network ARGS[1] of state root ARGS[0]; a failure to start ends the process (1). */
export function responderMain(args: string[]): void {
  serve(args[0], args[1]).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
