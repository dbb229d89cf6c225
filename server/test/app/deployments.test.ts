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
import { startTestServer, type TestServer } from '../support/server.js';

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
