// The kernel objects of a state root's networks: one Linux bridge per network (its gateway
// address on it), and one nftables table per root ("strata_<id>") holding every rule of its
// networks: NAT for the way out, the isolation of each network from the others, no way out at
// all for --internal ones. The table is rewritten whole in one `nft -f` transaction whenever a
// network comes or goes, so it is never seen half-made; tables of other roots or other tools
// are never touched. Containers add nothing here: their veth pairs die with their namespaces.
import { spawnSync } from 'node:child_process';
import { StrataError } from '../../errors.js';
import type { NetworkRecord } from '../../store/index.js';
import { linkExists } from './host.js';
import { tableName } from './names.js';
import { claimOwnerAlive, readClaims, removeClaim, sweepUnownedClaimTemps, type Claim } from './pool.js';

/** Runs an administration tool (ip, nft) with INPUT on stdin; throws its error as one line. */
export function runTool(command: string, args: string[], input?: string): string {
  const r = spawnSync(command, args, { input, encoding: 'utf8' });
  if (r.error) throw new StrataError(`running ${command}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed' : r.error.message}`);
  if (r.status !== 0) throw new StrataError(`${command} ${args.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit ${r.status}`}`);
  return r.stdout;
}

export function gatewayOf(net: NetworkRecord): { gateway: string; prefix: number; subnet: string } {
  const config = net.IPAM.Config[0]!;
  return { gateway: config.Gateway, prefix: Number(config.Subnet.split('/')[1]), subnet: config.Subnet };
}

/** Docker's bridge driver option for the MTU of the network's interfaces. */
export const MTU_OPTION = 'com.docker.network.driver.mtu';

/** The MTU `-o com.docker.network.driver.mtu=N` asks for (undefined: the kernel's default, 1500). */
export function mtuOf(net: Pick<NetworkRecord, 'Options'>): number | undefined {
  const text = net.Options[MTU_OPTION];
  return text === undefined || text === '' ? undefined : Number(text);
}

/** Creates the network's bridge with its gateway address, up. */
export function bridgeUp(net: NetworkRecord): void {
  const { gateway, prefix } = gatewayOf(net);
  const b = net.Strata.bridge;
  const mtu = mtuOf(net);
  runTool('ip', ['-batch', '-'], `link add ${b}${mtu ? ` mtu ${mtu}` : ''} type bridge\naddr add ${gateway}/${prefix} dev ${b}\nlink set ${b} up\n`);
}

export function bridgeDown(bridge: string): void {
  if (linkExists(bridge)) spawnSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
}

/** The root's whole ruleset (nft syntax) for its NETWORKS. */
export function renderRules(rootId: string, networks: NetworkRecord[]): string {
  const forward: string[] = [];
  const nat: string[] = [];
  for (const net of networks) {
    const b = JSON.stringify(net.Strata.bridge);
    // Containers of one network reach each other (bridged traffic passes this hook too).
    forward.push(`iifname ${b} oifname ${b} accept`);
    if (net.Internal) {
      forward.push(`iifname ${b} drop`, `oifname ${b} drop`);
      continue;
    }
    // Not into another network (of this root or any other), out to the world, and back in
    // only as replies (published ports come in through the port forwarder, not here).
    forward.push(`iifname ${b} oifname "sb*" drop`, `iifname ${b} accept`, `oifname ${b} ct state established,related accept`, `oifname ${b} drop`);
    nat.push(`ip saddr ${gatewayOf(net).subnet} oifname != ${b} masquerade`);
  }
  const table = tableName(rootId);
  const lines = [`table ip ${table}`, `delete table ip ${table}`];
  if (networks.length === 0) return `${lines.join('\n')}\n`;
  lines.push(
    `table ip ${table} {`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    ...forward.map((r) => `    ${r}`),
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...nat.map((r) => `    ${r}`),
    '  }',
    '}',
  );
  return `${lines.join('\n')}\n`;
}

/** Replaces the root's table with the rules of NETWORKS (none: the table goes). */
export function applyRules(rootId: string, networks: NetworkRecord[]): void {
  runTool('nft', ['-f', '-'], renderRules(rootId, networks));
}

/**
 * Removes the bridges and the table of state roots that no longer exist (caller holds the
 * machine lock). Only what their claims name is touched: each claim's bridge, and the
 * table of a root none of whose claims is alive; and the writer-less claim temps of older strata.
 */
export function sweepDeadRoots(claims: Claim[] = readClaims()): void {
  const alive = new Set(claims.filter(claimOwnerAlive).map((c) => c.rootId));
  const deadRoots = new Set<string>();
  for (const claim of claims) {
    if (claimOwnerAlive(claim)) continue;
    bridgeDown(claim.bridge);
    if (claim.rootId && !alive.has(claim.rootId)) deadRoots.add(claim.rootId);
    removeClaim(claim.bridge);
  }
  for (const rootId of deadRoots) spawnSync('nft', ['-f', '-'], { input: renderRules(rootId, []), stdio: ['pipe', 'ignore', 'ignore'] });
  sweepUnownedClaimTemps();
}
