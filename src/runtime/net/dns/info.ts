// Where a network's DNS responder is recorded: its pid and start time in the network's dir
// (responder.json). The responder writes it itself once it listens, before it says "ready":
// a strata process killed right after starting one leaves a responder that the next one finds,
// not one holding the gateway's port 53 unknown to all (every later start would fail to bind).
import fs from 'node:fs';
import path from 'node:path';
import { atomicWriteSync, pidAlive, processStartTime } from '../../../store/index.js';
import type { NetworkStore } from '../../../store/index.js';

export interface ResponderInfo {
  pid: number;
  start: string;
}

export function infoFile(store: NetworkStore, networkId: string): string {
  return path.join(store.networkDir(networkId), 'responder.json');
}

export function readInfo(store: NetworkStore, networkId: string): ResponderInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(infoFile(store, networkId), 'utf8')) as ResponderInfo;
  } catch {
    return undefined;
  }
}

/** Whether INFO names a live process, the very one it was written for. */
export function running(info: ResponderInfo | undefined): info is ResponderInfo {
  return !!info && pidAlive(info.pid) && processStartTime(info.pid) === info.start;
}

/** The responder records itself (its temp is named after it, so a kill of it mid-write is swept). */
export function recordSelf(store: NetworkStore, networkId: string): void {
  const info: ResponderInfo = { pid: process.pid, start: processStartTime(process.pid) ?? '' };
  atomicWriteSync(infoFile(store, networkId), JSON.stringify(info), { durable: false });
}
