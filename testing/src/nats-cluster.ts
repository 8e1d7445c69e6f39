import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort } from './free-port.js';
import { startNatsServer, type NatsServer, type NatsServerOptions } from './nats-server.js';
import { waitFor } from './wait-for.js';

export interface NatsCluster {
  /** Every node's URL, separated by commas: what `NATS_URL` takes. */
  readonly url: string;
  /** The nodes, `n0`, `n1`, ... by their `server_name`. */
  readonly nodes: readonly NatsServer[];
  /** The node whose `server_name` is `name`. */
  node(name: string): NatsServer;
  /** Stops every node and deletes their stores. */
  destroy(): Promise<void>;
}

/**
 * A throwaway JetStream cluster of `nodes` nats-servers (3 by default) on loopback, each with a
 * store of its own, routed to one another, named `n0`, `n1`, ...; resolves once JetStream answers
 * (a meta leader is elected). A node stopped or killed starts again on its ports with its store.
 *
 * @example
 * const cluster = await startNatsCluster();
 * await cluster.node('n1').kill(); // a node crashes
 */
export async function startNatsCluster(options: NatsServerOptions & { nodes?: number } = {}): Promise<NatsCluster> {
  const count = options.nodes ?? 3;
  const routePorts = await Promise.all(Array.from({ length: count }, () => freePort()));
  const routes = routePorts.map((port) => `nats-route://127.0.0.1:${port}`).join(',');
  const started = await Promise.allSettled(routePorts.map((port, index) => startNatsServer({
    ...options,
    args: [...(options.args ?? []), '--server_name', `n${index}`, '--cluster_name', 'ticketing', '--cluster', `nats://127.0.0.1:${port}`, '--routes', routes],
  })));
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await Promise.all(nodes.map((node) => node.destroy()));
    throw (failed as PromiseRejectedResult).reason;
  }
  const cluster: NatsCluster = {
    get url() {
      return nodes.map((node) => node.url).join(',');
    },
    nodes,
    node(name) {
      const node = nodes[Number(name.replace(/^n/, ''))];
      if (node === undefined || !/^n\d+$/.test(name)) throw new Error(`no node ${name} in a cluster of ${count}`);
      return node;
    },
    async destroy() {
      await Promise.all(nodes.map((node) => node.destroy()));
    },
  };
  if (options.config === undefined) await waitForJetStream(cluster.url);
  return cluster;
}

/** Waits (at most 30 s) until JetStream answers on the cluster: its nodes have elected a meta leader. */
async function waitForJetStream(url: string): Promise<void> {
  const nc = await connect({ servers: url.split(',') });
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    await waitFor(() => jsm.getAccountInfo().then(() => true), { timeoutMs: 30_000, intervalMs: 200, what: 'the JetStream cluster to elect a meta leader' });
  } finally {
    await nc.close();
  }
}
