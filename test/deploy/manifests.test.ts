import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { Metrics } from '../../src/observability/metrics.js';
import { HttpServer } from '../../src/observability/http.js';

const root = new URL('../../', import.meta.url).pathname;
// Manifests are free-form YAML; the assertions below are the schema.
type Obj = Record<string, any>;

const docs: Obj[] = readdirSync(`${root}deploy/k8s`)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(`${root}deploy/k8s/${f}`, 'utf8')).map((d) => ({ ...(d.toJS() as Obj), __file: f })));
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
const one = (kind: string) => {
  const found = byKind(kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Obj;
};

describe('Kubernetes manifests', () => {
  const configMap = one('ConfigMap');
  const config = parseConfig(configMap.data['seismo.yaml'], 'deploy/k8s/configmap.yaml');
  const deployment = one('Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const portNamed = (name: string | number) => (typeof name === 'number' ? name : container.ports.find((p: Obj) => p.name === name)?.containerPort);

  it('every document has apiVersion, kind, metadata.name and the app label', () => {
    for (const d of docs) {
      expect(d.apiVersion, d.__file).toBeTruthy();
      expect(d.kind, d.__file).toBeTruthy();
      expect(d.metadata?.name, d.__file).toBeTruthy();
      expect(d.metadata?.labels?.['app.kubernetes.io/name'], d.__file).toBe('seismo');
    }
  });

  it('the Deployment runs a pinned image, non-root, with the ConfigMap mounted where args point', () => {
    expect(container.image).toMatch(/^[\w./-]+:[\w.-]+$/);
    expect(container.image).not.toMatch(/:latest$/);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(container.args).toEqual(['run', '-c', '/etc/seismo/seismo.yaml']);
    const mount = container.volumeMounts.find((m: Obj) => m.mountPath === '/etc/seismo');
    expect(pod.volumes.find((v: Obj) => v.name === mount.name).configMap.name).toBe(configMap.metadata.name);
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
    expect(container.resources.limits.memory).toBeTruthy();
    // The drain (daemon.shutdownDeadlineSeconds) must end before Kubernetes kills the pod.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(config.daemon.shutdownDeadlineSeconds);
  });

  it('probes point at endpoints Seismo serves, on the port its config listens on', async () => {
    expect(config.http.enabled).toBe(true);
    expect(config.http.host).toBe('0.0.0.0');
    expect(portNamed(container.readinessProbe.httpGet.port)).toBe(config.http.port);
    expect(portNamed(container.livenessProbe.httpGet.port)).toBe(config.http.port);
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    // And Seismo's HTTP server really answers them (503 is a real answer for not-ready).
    const http = new HttpServer(new Metrics(), () => ({ ready: false, detail: {} }));
    const port = await http.listen('127.0.0.1', 0);
    try {
      for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
        const res = await fetch(`http://127.0.0.1:${port}${probe.httpGet.path}`);
        expect([200, 503], probe.httpGet.path).toContain(res.status);
      }
    } finally {
      await http.close();
    }
  });

  it('the Service, PodDisruptionBudget, scrape config and KEDA ScaledObject match the Deployment and the config', () => {
    const labels = deployment.spec.template.metadata.labels;
    const service = one('Service');
    expect(service.spec.selector).toEqual(labels);
    expect(portNamed(service.spec.ports[0].targetPort)).toBe(config.http.port);
    expect(Number(service.metadata.annotations['prometheus.io/port'])).toBe(config.http.port);
    expect(service.metadata.annotations['prometheus.io/path']).toBe('/metrics');
    expect(one('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    const podMonitor = one('PodMonitor');
    expect(podMonitor.spec.selector.matchLabels).toEqual(labels);
    expect(portNamed(podMonitor.spec.podMetricsEndpoints[0].port)).toBe(config.http.port);
    const scaled = one('ScaledObject');
    expect(scaled.spec.scaleTargetRef.name).toBe(deployment.metadata.name);
    const kafka = scaled.spec.triggers.find((t: Obj) => t.type === 'kafka').metadata;
    expect(kafka.consumerGroup).toBe(config.source.groupId);
    expect(config.source.topics).toContain(kafka.topic);
    expect(config.kafka.brokers).toContain(kafka.bootstrapServers);
    const claim = pod.volumes.find((v: Obj) => v.persistentVolumeClaim)?.persistentVolumeClaim.claimName;
    expect(one('PersistentVolumeClaim').metadata.name).toBe(claim);
    expect(config.source.kind).toBe('kafka');
    expect(config.sink.kind).toBe('kafka');
  });
});

describe('docker-compose and Dockerfile', () => {
  const compose = parse(readFileSync(`${root}deploy/docker-compose.yml`, 'utf8')) as Obj;
  const seismoConfig = parseConfig(readFileSync(`${root}deploy/compose/seismo.yaml`, 'utf8'), 'deploy/compose/seismo.yaml');

  it('runs Kafka, Seismo, Prometheus and Grafana, wired to each other', () => {
    for (const s of ['kafka', 'seismo', 'prometheus', 'grafana']) expect(Object.keys(compose.services)).toContain(s);
    expect(seismoConfig.kafka.brokers).toEqual(['kafka:9092']);
    expect(compose.services.kafka.environment.KAFKA_ADVERTISED_LISTENERS).toContain('kafka:9092');
    expect(compose.services.seismo.ports).toContain(`${seismoConfig.http.port}:${seismoConfig.http.port}`);
    const prom = parse(readFileSync(`${root}deploy/compose/prometheus.yml`, 'utf8')) as Obj;
    expect(prom.scrape_configs[0].static_configs[0].targets).toEqual([`seismo:${seismoConfig.http.port}`]);
    for (const volume of [...compose.services.prometheus.volumes, ...compose.services.grafana.volumes]) {
      expect(existsSync(`${root}deploy/${(volume as string).split(':')[0]}`), volume).toBe(true);
    }
  });

  it('the Dockerfile is multi-stage, builds the native backend, runs as non-root with a /healthz healthcheck', () => {
    const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    // npm ci without install scripts (npm 10 has no allowScripts policy), then our addon build, then the check.
    expect(dockerfile).toMatch(/npm ci[^\n]*--ignore-scripts[\s\S]*scripts\/native\/install-tfjs-native\.mjs[\s\S]*npm run native:check/);
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toMatch(/^USER (?!root)\w+/m);
    expect(final).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    expect(final).toContain(`EXPOSE ${seismoConfig.http.port}`);
    expect(final).toContain('SEISMO_HTTP_HOST=0.0.0.0');
  });
});
