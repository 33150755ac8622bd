// Subnets for the whole machine. Every state root's bridges are claimed in MACHINE_DIR/claims
// (one file per bridge: its subnet, its root's path and inode), under one machine-wide lock, so
// that roots used at the same time never pick the same subnet, and none is picked that a route
// of the host already covers (or that holds one of the host's DNS servers). A claim whose root
// is gone (deleted, or replaced by another directory) belongs to no one: see sweepDeadRoots.
// A claim is replaced through a temp file named after its writer (`.tmp-PID.START-*`): those of
// writers that have exited are swept by any state root's commands (sweepClaimTemps).
import fs from 'node:fs';
import path from 'node:path';
import { StrataError } from '../../errors.js';
import { failpoint } from '../../failpoint.js';
import { removeDeadTemps, tempName, withLock, type SweepOptions } from '../../store/index.js';
import { hostNameserverIps, hostRoutes } from './host.js';
import { candidateSubnets, formatSubnet, overlaps, parseSubnet, type Subnet } from './ipv4.js';
import { MACHINE_DIR } from './names.js';

export interface Claim {
  bridge: string;
  subnet: string;
  root: string;
  rootIno: number;
  rootId: string;
  network: string;
  /**
   * Written so while the bridge and the rules are being made; the claim rewritten without it
   * is the commit point: a bridge whose claim is pending (a kill -9 mid-way) is made again.
   */
  pending?: true;
}

const claimsDir = () => path.join(MACHINE_DIR, 'claims');

export async function withMachineLock<T>(fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(claimsDir(), { recursive: true, mode: 0o755 });
  return withLock(path.join(MACHINE_DIR, 'lock'), fn);
}

export function readClaims(): Claim[] {
  let names: string[];
  try {
    names = fs.readdirSync(claimsDir());
  } catch {
    return [];
  }
  const out: Claim[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(claimsDir(), name), 'utf8')) as Claim);
    } catch {
      // half-written by a killed process: its bridge name is the file name
      out.push({ bridge: name.slice(0, -5), subnet: '', root: '', rootIno: 0, rootId: '', network: '' });
    }
  }
  return out;
}

/** Whether the claim's state root still exists (the same directory, not a new one at its path). */
export function claimOwnerAlive(claim: Claim): boolean {
  if (!claim.root) return false;
  try {
    return fs.statSync(claim.root).ino === claim.rootIno;
  } catch {
    return false;
  }
}

/** The claim of BRIDGE, if any (unreadable: as if none). */
export function readClaim(bridge: string): Claim | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(claimsDir(), `${bridge}.json`), 'utf8')) as Claim;
  } catch {
    return undefined;
  }
}

export function writeClaim(claim: Claim): void {
  const tmp = tempName(claimsDir());
  try {
    fs.writeFileSync(tmp, JSON.stringify(claim), { flag: 'wx' });
    failpoint('net.claim-written');
    fs.renameSync(tmp, path.join(claimsDir(), `${claim.bridge}.json`));
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Removes the claims' temp files of writers that have exited (no lock: a live writer's are never touched). Returns their paths. */
export function sweepClaimTemps(options: SweepOptions = {}): Promise<string[]> {
  return removeDeadTemps(claimsDir(), options);
}

// Temp files of strata versions that named them `BRIDGE.json.tmp-HEX`, without their writer.
const UNOWNED_TEMP = /\.json\.tmp-[0-9a-f]{8}$/;

/**
 * Removes claim temp files that name no writer (older strata): they were written under the
 * machine lock, so one seen by a holder of the lock (the caller) is a killed writer's.
 */
export function sweepUnownedClaimTemps(): void {
  let names: string[];
  try {
    names = fs.readdirSync(claimsDir());
  } catch {
    return;
  }
  for (const name of names) if (UNOWNED_TEMP.test(name)) fs.rmSync(path.join(claimsDir(), name), { force: true });
}

export function removeClaim(bridge: string): void {
  fs.rmSync(path.join(claimsDir(), `${bridge}.json`), { force: true });
}

/** What a new subnet must not overlap: host routes (but the bridge's own), other claims, the host's DNS servers. */
function takenSubnets(bridge: string, claims: Claim[]): Array<{ subnet: Subnet; why: string }> {
  const taken: Array<{ subnet: Subnet; why: string }> = [];
  for (const r of hostRoutes()) if (r.dev !== bridge) taken.push({ subnet: r.subnet, why: `a route of the host (dev ${r.dev})` });
  for (const c of claims) {
    if (c.bridge === bridge || !c.subnet) continue;
    taken.push({ subnet: parseSubnet(c.subnet), why: `another network (bridge ${c.bridge})` });
  }
  for (const ip of hostNameserverIps()) taken.push({ subnet: { base: ip, prefix: 32 }, why: 'a DNS server of the host' });
  return taken;
}

/**
 * The subnet for BRIDGE (caller holds the machine lock): REQUESTED when it is free (else an
 * error naming what it overlaps), else the first free one of the pools.
 */
export function chooseSubnet(bridge: string, requested: Subnet | undefined, claims: Claim[] = readClaims()): Subnet {
  const taken = takenSubnets(bridge, claims);
  if (requested) {
    const clash = taken.find((t) => overlaps(t.subnet, requested));
    if (clash) throw new StrataError(`subnet "${formatSubnet(requested)}" overlaps with ${clash.why}: ${formatSubnet(clash.subnet)}`);
    return requested;
  }
  for (const candidate of candidateSubnets()) {
    if (!taken.some((t) => overlaps(t.subnet, candidate))) return candidate;
  }
  throw new StrataError('no free subnet left for a new network: remove unused networks (strata network prune)');
}
