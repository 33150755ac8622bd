// The runtime folder's public API: containers from their records (bundles, runc, overlay roots),
// attached or under a detached shim, and what acts on them (signals, exec, attach, logs, stats,
// cp, diff, commit). Shim internals (src/runtime/shim/) stay behind these exports. Port
// forwarding and the shim's client are loaded on first use (the run bundle keeps them out).
export type * from './types.js';
export { RuncRunner, type RuncRunnerOptions } from './runc.js';
export { buildContainerId, helperCommand, notePause, reserveHelperNote, sweepBuildContainers, sweepLeftovers, type SweepReport } from './leftovers.js';
export {
  currentState, mountRequestsOf, portRequestsOf, removeContainer, runAttached, runcRootOf, stateFromStatus,
  type AttachedIo, type ContainerContext,
} from './foreground.js';
export { applyUpdatedLimits, linuxResources, runcUpdate, type LimitGroup, type LiveLimits } from './live-limits.js';
export { dockerRestartPolicy, parseRestart, restartPolicyOf } from './restart-policy.js';
export { claimStart, removalGuard, removalRefused, type StartClaim } from './start-claim.js';
export { refuseWhileShmShared, shmUsers } from './shared-namespaces.js';
export { startDetached, spawnEarlyShim, type DetachedStartOptions, type EarlyShim } from './detached.js';
export { buildRecord, limitsOf, lowerDirsOf, networkOf, runSpecOf, type CreateOptions } from './container.js';
export { freshName } from './names.js';
export { parseUlimits, type Ulimit } from './ulimits.js';
export {
  allCapabilities, checkSecurityOpt, containerCapabilities, parseCpuset, parseSysctls, normalizeCapabilities, parseCpuShares, parseCpus, parseDevice, parsePidsLimit,
  parseTmpfs, portBindingsOf, readSeccompProfiles, securityOptions, tmpfsOptions, type DeviceMapping, type SecurityOptions,
} from './host-config.js';
export { afterProbe, checkHealthFlags, healthConfigWith, healthPlan, type HealthFlags, type HealthPlan, type HealthState } from './health.js';
export { logAttributes, logLimits, parseLogConfig, type LogConfig, type LogLimits } from './log-config.js';
export { dockerHostConfig, dockerMounts, dockerMountSpecs } from './docker-host-config.js';
export { moreHostConfig, type MoreFlags, type MoreHostConfig } from './more-host-config.js';
export { memoryHostConfig, memoryResources, parseMemoryBytes, swapLimitSupported, type MemoryFlags, type MemoryHostConfig, type MemoryResources } from './memory-limits.js';
export { parseGroup, parsePasswd, resolveUserSpec } from './user.js';
export { parseSince, readLogs, teeToLog, type ReadLogsOptions } from './logs.js';
export { containerPids, execInContainer, type ExecOptions } from './exec.js';
export { attachToShim, parseDetachKeys, type AttachOutcome } from './attach.js';
export { containerChanges, formatChanges, type Change, type ChangeKind } from './diff.js';
export { withContainerRoot, type RootMode } from './rootfs.js';
export { UnionView, type UnionOptions } from './union.js';
export { resolveInRoot, type FsView, type Resolved } from './resolve.js';
export { copyTarToContainer, copyToContainer, type CopyOptions, type CopyResult } from './cp.js';
export { containerEntries, copyFromContainer } from './cp-out.js';
export { commitContainer, imageConfigOf, type CommitOptions } from './commit.js';
export { isDockerSignal } from './signals.js';
export { exitCodeFromShim, isLive, killContainer, parseSignal, pauseContainer, stopContainer, unpauseContainer, waitForExit, type ContainerHandle } from './shim/control.js';
export { shortSocketPath } from './shim/hub.js';
export { bindingsOf, type DockerPortMap } from './shim/record.js';
export { ATTACH_SOCKET, logPath, readRuntimeStatus, readShimConfig, readShimStatus, runcState, runcStateFromFiles, type ShimStatus } from './shim/state.js';
export { bytesSize, humanSize, sampleStats, topRows, type ContainerStats } from './shim/stats.js';
export { parsePsOutput, topProcesses, type TopResult } from './top.js';
export { isUnified, locateCgroup, readCgroupLimits, readCgroupUsage, type CgroupLimits, type CgroupLocation, type CgroupRoots, type CgroupUsage } from './cgroups.js';
export { inheritMounts, resolveContainerMounts, volumesOf, type MountRequest } from './shim/mounts.js';
export { removeAnonymousVolumes, removeUnusedVolume, volumeUsers } from './volume-users.js';
export type { PortBinding, PortRequest, Protocol } from './ports.js';
// Container networks (src/runtime/net/, issue 13).
export { createNetwork, defaultNetwork, pruneNetworks, removeNetwork, sweepNetworks, unappliedOptions, type CreateNetworkOptions } from './net/networks.js';
export { containerNetworkSettings, inspectNetwork, inspectNetworkRefs, inspectPredefined, listNetworks, type NetworkListEntry } from './net/inspect.js';
export { networkChoice, parseNetworkAttachment, type NetworkAttachment, type NetworkChoice, type NetworkFlags } from './net/config.js';
export { prewarmNetns, renameEndpoints } from './net/endpoints.js';
export { withDefaultNetwork } from './net/runner.js';
export { teardownRoot } from './net/teardown.js';
export { rootIdentity, tableName } from './net/names.js';
export { bridgeName, MACHINE_DIR as NETWORK_MACHINE_DIR } from './net/names.js';
export { sweepClaimTemps } from './net/pool.js';
export { connectContainer, disconnectContainer } from './net-connect.js';
