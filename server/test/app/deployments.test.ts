/**
 * The deployments in the repository that cannot run here (no Kubernetes, no Railway): the
 * Kubernetes manifests are validated against the Kubernetes API schemas (kubernetes-models),
 * and what they and railway.json say about the server is checked against a real one: the probe
 * paths answer, the port is the one it listens on, and the time before SIGKILL covers its drain.
 */
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { SHUTDOWN_GRACE_MS } from '../../src/app/start.js';
import { scrape } from '../support/prometheus.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startedWorkflow } from '../support/workflows.js';

const root = new URL('../../../', import.meta.url);
const read = (file: string) => readFile(new URL(file, root), 'utf8');
const MODELS = { Deployment, HorizontalPodAutoscaler, Ingress, PodDisruptionBudget, ConfigMap, Service };

async function manifests(): Promise<Array<Record<string, any>>> {
  const folder = new URL('deploy/kubernetes/', root);
  const files = (await readdir(folder)).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
  const docs = await Promise.all(files.map(async (file) => parseAllDocuments(await readFile(new URL(file, folder), 'utf8')).map((doc) => doc.toJS())));
  return docs.flat();
}

describe('deploy/kubernetes', async () => {
  const all = await manifests();
  const one = (kind: string) => {
    const found = all.filter((m) => m.kind === kind);
    expect(found, kind).toHaveLength(1);
    return found[0];
  };
  const deployment = one('Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('should be valid Kubernetes objects, each listed in the kustomization', async () => {
    for (const manifest of all) {
      const Model = MODELS[manifest.kind as keyof typeof MODELS];
      expect(Model, `a model for ${manifest.kind}`).toBeDefined();
      expect(() => new Model(manifest as any).validate(), `${manifest.kind} ${manifest.metadata.name}`).not.toThrow();
    }
    // A broken manifest is refused, so the check above can fail.
    expect(() => new Deployment({ ...deployment, spec: { ...deployment.spec, replicas: 'three' } } as any).validate()).toThrow();
    const kustomization = parseAllDocuments(await read('deploy/kubernetes/kustomization.yaml'))[0].toJS();
    const listed = (await readdir(new URL('deploy/kubernetes/', root))).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(listed.sort());
  });

  it('should select the Deployment\'s pods from the Service, the budget and the autoscaler', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    expect(one('Service').spec.selector).toEqual(labels);
    expect(one('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    // The operations guide's trigger, of a CPU request the pod declares.
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    expect(container.resources.requests.cpu).toBeDefined();
    const backend = one('Ingress').spec.rules[0].http.paths[0].backend.service;
    expect(backend.name).toBe(one('Service').metadata.name);
    expect(one('Service').spec.ports.map((p: any) => p.name)).toContain(backend.port.name);
  });

  it('should probe paths the server answers, on the port it listens on', async () => {
    const config = one('ConfigMap');
    expect(container.envFrom.map((e: any) => (e.configMapRef ?? e.secretRef).name)).toEqual([config.metadata.name, deployment.metadata.name]);
    const port = container.ports.find((p: any) => p.name === 'http');
    expect(String(port.containerPort)).toBe(config.data.PORT);
    expect(one('Service').spec.ports[0].targetPort).toBe('http');
    expect(container.livenessProbe.httpGet.path).toBe('/api/live');
    expect(container.startupProbe.httpGet.path).toBe('/api/live');
    expect(container.readinessProbe.httpGet.path).toBe('/api/ready');
    for (const probe of [container.livenessProbe, container.startupProbe, container.readinessProbe]) {
      expect(probe.httpGet.port).toBe('http');
      expect((await fetch(`${server.url}${probe.httpGet.path}`)).status, probe.httpGet.path).toBe(200);
    }
  });

  it('should wait longer than preStop and the server\'s drain before SIGKILL, and roll without losing capacity', () => {
    const preStop = container.lifecycle.preStop.exec.command;
    expect(preStop[0]).toBe('sleep');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(preStop[1]) + SHUTDOWN_GRACE_MS / 1000 + 5);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    // The image's user (Dockerfile `USER node`) is uid 1000.
    expect(pod.securityContext.runAsUser).toBe(1000);
  });

  it('should keep subscriptions open through the ingress and not buffer streams', () => {
    const annotations = one('Ingress').metadata.annotations;
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
  });
});

/**
 * A ScaledObject as KEDA v2's CRD (keda.sh_scaledobjects.yaml) declares it, as far as this
 * example uses it: the CRD is not in kubernetes-models, so its fields are checked here — known
 * keys only (a typo is silently ignored by nothing but this), required ones present, counts
 * whole numbers, trigger metadata strings — plus the Prometheus scaler's metadata keys.
 * Returns the problems found.
 */
function scaledObjectProblems(object: Record<string, any>): string[] {
  const problems: string[] = [];
  const only = (value: Record<string, unknown> | undefined, where: string, keys: string[], required: string[] = []) => {
    if (!value || typeof value !== 'object') return problems.push(`${where} must be an object`);
    for (const key of Object.keys(value)) if (!keys.includes(key)) problems.push(`${where}.${key} is not a field KEDA knows`);
    for (const key of required) if (value[key] === undefined) problems.push(`${where}.${key} is required`);
  };
  if (object.apiVersion !== 'keda.sh/v1alpha1' || object.kind !== 'ScaledObject') problems.push('apiVersion/kind must be keda.sh/v1alpha1 ScaledObject');
  only(object, '', ['apiVersion', 'kind', 'metadata', 'spec'], ['metadata', 'spec']);
  only(object.metadata, 'metadata', ['name', 'namespace', 'labels', 'annotations'], ['name']);
  const spec = object.spec ?? {};
  only(spec, 'spec', ['scaleTargetRef', 'pollingInterval', 'initialCooldownPeriod', 'cooldownPeriod', 'idleReplicaCount', 'minReplicaCount', 'maxReplicaCount', 'fallback', 'advanced', 'triggers'], ['scaleTargetRef', 'triggers']);
  only(spec.scaleTargetRef, 'spec.scaleTargetRef', ['apiVersion', 'kind', 'name', 'envSourceContainerName'], ['name']);
  for (const key of ['pollingInterval', 'initialCooldownPeriod', 'cooldownPeriod', 'idleReplicaCount', 'minReplicaCount', 'maxReplicaCount']) {
    if (spec[key] !== undefined && !(Number.isInteger(spec[key]) && spec[key] >= 0)) problems.push(`spec.${key} must be a whole number`);
  }
  if (spec.minReplicaCount > spec.maxReplicaCount) problems.push('spec.minReplicaCount is above maxReplicaCount');
  if (!Array.isArray(spec.triggers) || !spec.triggers.length) problems.push('spec.triggers must list at least one trigger');
  for (const [i, trigger] of (spec.triggers ?? []).entries()) {
    const where = `spec.triggers[${i}]`;
    only(trigger, where, ['type', 'name', 'metadata', 'authenticationRef', 'metricType', 'useCachedMetrics'], ['type', 'metadata']);
    if (trigger.metricType !== undefined && !['AverageValue', 'Value', 'Utilization'].includes(trigger.metricType)) problems.push(`${where}.metricType is not AverageValue, Value or Utilization`);
    for (const [key, value] of Object.entries(trigger.metadata ?? {})) if (typeof value !== 'string') problems.push(`${where}.metadata.${key} must be a string (KEDA's metadata is string → string)`);
    if (trigger.type === 'prometheus') {
      only(trigger.metadata, `${where}.metadata`, ['serverAddress', 'query', 'threshold', 'activationThreshold', 'namespace', 'customHeaders', 'ignoreNullValues', 'queryParameters', 'unsafeSsl', 'timeout', 'authModes'], ['serverAddress', 'query', 'threshold']);
      if (!/^https?:\/\//.test(trigger.metadata?.serverAddress ?? '')) problems.push(`${where}.metadata.serverAddress must be an http(s) URL`);
      for (const key of ['threshold', 'activationThreshold']) {
        const value = trigger.metadata?.[key];
        if (value !== undefined && !Number.isFinite(Number(value))) problems.push(`${where}.metadata.${key} must be a number`);
      }
    }
  }
  return problems;
}

/** The samples a PromQL query of the form `max(metric{queue="q"}) + …` reads, as [metric, queue]. */
const selectorsOf = (query: string) => [...query.matchAll(/max\((\w+)\{queue="([^"]+)"\}\)/g)].map((m) => [m[1], m[2]] as const);

describe('deploy/kubernetes/workers (a KEDA-scaled worker)', async () => {
  const folder = new URL('deploy/kubernetes/workers/', root);
  const files = (await readdir(folder)).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
  const all = (await Promise.all(files.map(async (file) => parseAllDocuments(await readFile(new URL(file, folder), 'utf8')).map((doc) => doc.toJS())))).flat();
  const worker = all.find((m) => m.kind === 'Deployment');
  const scaled = all.find((m) => m.kind === 'ScaledObject');
  const trigger = scaled.spec.triggers[0];
  const command: string[] = worker.spec.template.spec.containers[0].command;
  const flag = (name: string) => command[command.indexOf(name) + 1];
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('should be a valid worker Deployment and a well-formed ScaledObject, listed in its own kustomization', async () => {
    expect(all.map((m) => m.kind).sort()).toEqual(['Deployment', 'ScaledObject']);
    expect(() => new Deployment(worker).validate()).not.toThrow();
    expect(scaledObjectProblems(scaled)).toEqual([]);
    // The check can fail: a misspelt field, a number where KEDA wants a string, a missing query.
    const broken = { ...scaled, spec: { ...scaled.spec, maxReplicas: 5, triggers: [{ ...trigger, metadata: { ...trigger.metadata, threshold: 4, query: undefined } }] } };
    expect(scaledObjectProblems(JSON.parse(JSON.stringify(broken)))).toEqual([
      'spec.maxReplicas is not a field KEDA knows',
      'spec.triggers[0].metadata.threshold must be a string (KEDA\'s metadata is string → string)',
      'spec.triggers[0].metadata.query is required',
    ]);
    const kustomization = parseAllDocuments(await read('deploy/kubernetes/workers/kustomization.yaml'))[0].toJS();
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    // Not in the main kustomization: clusters without KEDA would refuse the ScaledObject.
    const main = parseAllDocuments(await read('deploy/kubernetes/kustomization.yaml'))[0].toJS();
    expect(main.resources.some((r: string) => r.startsWith('workers'))).toBe(false);
  });

  it('should scale the worker Deployment on its own queue, one pod per --concurrency tasks', () => {
    expect(scaled.spec.scaleTargetRef).toMatchObject({ name: worker.metadata.name });
    expect([undefined, 'Deployment']).toContain(scaled.spec.scaleTargetRef.kind);
    expect(trigger.type).toBe('prometheus');
    expect(trigger.metricType ?? 'AverageValue').toBe('AverageValue');
    const selectors = selectorsOf(trigger.metadata.query);
    expect(selectors.map(([metric]) => metric)).toContain('workflow_tasks_ready');
    expect(new Set(selectors.map(([, queue]) => queue))).toEqual(new Set([flag('--queue')]));
    expect(trigger.metadata.threshold).toBe(flag('--concurrency'));
    expect(worker.spec.replicas).toBeUndefined();
    // SIGKILL comes after the worker's grace period.
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(Number(flag('--grace')));
  });

  it('should query metrics a real server exports, whose value is the queue\'s ready plus running tasks', async () => {
    const queue = flag('--queue');
    await startedWorkflow(server, server.adminToken, [{ name: 'one', queue }, { name: 'two', queue }, { name: 'three', queue }]);
    const claimed = await server.gqlOk('mutation ($q: String) { claimTask(queue: $q) { id } }', { q: queue }, server.adminToken);
    expect(claimed.claimTask).not.toBeNull();
    const samples = await scrape(server.url);
    // Evaluated as Prometheus would over one replica's samples (max of one series is that series).
    const terms = trigger.metadata.query.split('+').map((term: string) => {
      const [[metric, label]] = selectorsOf(term);
      const value = samples.get(`${metric}{queue="${label}"}`);
      expect(value, `${metric}{queue="${label}"} on /api/metrics`).toBeDefined();
      return value!;
    });
    expect(terms.reduce((sum: number, v: number) => sum + v, 0)).toBe(3);
  });

  it('should be scraped where the server\'s pods say', async () => {
    const main = await manifests();
    const annotations = main.find((m) => m.kind === 'Deployment')!.spec.template.metadata.annotations;
    const port = main.find((m) => m.kind === 'ConfigMap')!.data.PORT;
    expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': port });
    const response = await fetch(`${server.url}${annotations['prometheus.io/path']}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^# TYPE workflow_tasks_ready gauge$/m);
  });
});

describe('railway.json', async () => {
  const railway = JSON.parse(await read('railway.json'));

  it('should build the Dockerfile, check readiness, run replicas and drain before SIGKILL', async () => {
    expect(railway.build).toEqual({ builder: 'DOCKERFILE', dockerfilePath: 'Dockerfile' });
    await expect(read(railway.build.dockerfilePath)).resolves.toContain('STOPSIGNAL SIGTERM');
    expect(railway.deploy.healthcheckPath).toBe('/api/ready');
    expect(railway.deploy.numReplicas).toBeGreaterThanOrEqual(2);
    expect(railway.deploy.restartPolicyType).toBe('ON_FAILURE');
    expect(railway.deploy.drainingSeconds).toBeGreaterThan(SHUTDOWN_GRACE_MS / 1000);
    // Railway's schema types these as numbers; a string is taken as unset.
    for (const key of ['numReplicas', 'healthcheckTimeout', 'restartPolicyMaxRetries', 'overlapSeconds', 'drainingSeconds']) {
      expect(typeof railway.deploy[key], key).toBe('number');
    }
  });
});
