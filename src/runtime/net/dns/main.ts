// The responder process: `node main.js ROOT NETWORK_ID` (started by control.ts). Once it
// listens it records itself (info.ts) and says "ready" on stdout, or why not on stderr, and
// then runs on its own.
import { NetworkStore } from '../../../store/index.js';
import { recordSelf } from './info.js';
import { Responder } from './responder.js';

async function main(): Promise<void> {
  const [root, networkId] = process.argv.slice(2);
  if (!root || !networkId) throw new Error('usage: main.js ROOT NETWORK_ID');
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

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
