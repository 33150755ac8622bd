// The default network for containers run through a ContainerRunner without a record (a build's
// RUN steps with `build --network=default`): a runner that attaches every `private` run not
// given a namespace to the state root's default network, and releases it afterwards.
import { randomBytes } from '../../random.js';
import type { ContainerRunner, RunOptions, RunResult, RunSpec } from '../types.js';
import { attachNetworks } from './attach.js';
import { defaultNetwork } from './networks.js';

export function withDefaultNetwork(inner: ContainerRunner, root: string): ContainerRunner {
  return {
    async run(spec: RunSpec, options: RunOptions = {}): Promise<RunResult> {
      if (spec.network !== 'private' || spec.netns) return inner.run(spec, options);
      const id = spec.id ?? randomBytes(32).toString('hex');
      const net = await defaultNetwork(root);
      const attached = await attachNetworks(root, { id, name: '' }, {
        networks: [{ name: net.Name, id: net.Id, aliases: [] }], hostname: spec.hostname ?? id.slice(0, 12),
        dns: spec.dns?.dns ?? [], dnsSearch: spec.dns?.dnsSearch ?? [], dnsOptions: spec.dns?.dnsOptions ?? [], extraHosts: spec.extraHosts ?? [],
      });
      try {
        return await inner.run({ ...spec, id, netns: attached.netns, etc: attached.etc }, { ...options, beforeStart: attached.ready });
      } finally {
        await attached.release();
      }
    },
  };
}
