/**
 * Replicas of the server on a private PostgreSQL cluster that a test stops (a database outage on
 * demand), with an HTTP receiver standing in for the contact points they page.
 */
import type { Logger } from '../../src/core/logger.js';
import { startCluster, type Cluster } from './cluster.js';
import { startHttpReceiver, type HttpReceiver } from './receivers.js';
import { startTestServer, type TestServer } from './server.js';

export interface OutageReplicas {
  cluster: Cluster;
  receiver: HttpReceiver;
  replicas: TestServer[];
  /** starts PostgreSQL again if the test left it stopped, then stops everything */
  stop(): Promise<void>;
}

/** One replica per instance id, evaluating and sampling every second, delivering every 500 ms. */
export async function startOutageReplicas(bin: string, env: Record<string, string>, instances: string[], logger: Logger): Promise<OutageReplicas> {
  const [cluster, receiver] = await Promise.all([startCluster(bin), startHttpReceiver()]);
  const settings = { ...env, ALERT_EVAL_INTERVAL_SECONDS: '1', SAMPLE_INTERVAL_SECONDS: '1', ALERT_DELIVERY_INTERVAL_MS: '500' };
  const database = { url: cluster.url, drop: async () => undefined };
  const replicas: TestServer[] = [];
  for (const instance of instances) replicas.push(await startTestServer({ ...settings, INSTANCE_ID: instance }, database, logger));
  return {
    cluster, receiver, replicas,
    async stop() {
      await cluster.start().catch(() => undefined);
      for (const replica of replicas) await replica.stop();
      await receiver.close();
      await cluster.destroy();
    },
  };
}
