// The metrics listener as shipped (issue 19 item 6): its own port, never the API's, in the image
// and in the Kubernetes manifests — the scrape annotations, the container port and the gateway's
// own reading of the ConfigMap agree, and the Service (what the ingress reaches) leaves it out.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig, readEnv } from '../../src/config/load.js';
import { parseListen } from '../../src/observability/metrics-listener.js';
import { ROOT } from '../helpers/processes.js';

const dir = join(ROOT, 'config/kubernetes');
const docs = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as any));
const find = (kind: string) => docs.find((d) => d.kind === kind && d.metadata.name === 'gatehouse');

describe('the metrics listener as shipped', () => {
  it('is loopback-only by default, in every mode a deployment starts in', () => {
    for (const mode of ['development', 'production']) {
      const { host, port } = parseListen(String((readEnv({ NODE_ENV: mode }).observability as Record<string, unknown>).metricsListen));
      expect(host, mode).toBe('127.0.0.1');
      expect(port, mode).toBe(9464);
    }
  });

  it('Kubernetes: the scrape annotations name the port the gateway listens on for metrics, not the API port; the Service leaves it out', () => {
    const cm = find('ConfigMap').data as Record<string, string>;
    const env = Object.fromEntries(Object.entries(cm).filter(([k]) => k.startsWith('METRICS_') || k === 'PORT'));
    const { observability, server } = loadConfig({ NODE_ENV: 'test', ...env });
    const { host, port } = parseListen(observability.metricsListen);
    expect(host).toBe('0.0.0.0'); // the scraper reaches the pod address
    expect(port).not.toBe(server.port);
    expect(observability.organizationLabels).toBe(false);

    const pod = find('Deployment').spec.template;
    expect(pod.metadata.annotations['prometheus.io/port']).toBe(String(port));
    expect(pod.metadata.annotations['prometheus.io/path']).toBe(observability.metricsPath);
    const ports = pod.spec.containers[0].ports as { name: string; containerPort: number }[];
    expect(ports.find((p) => p.name === 'metrics')?.containerPort).toBe(port);
    const service = find('Service').spec.ports as { targetPort: string | number }[];
    expect(service.map((p) => p.targetPort)).not.toContain('metrics');
    expect(service.map((p) => p.targetPort)).not.toContain(port);
  });

  it('the image exposes the metrics port beside the API port', () => {
    const parsed = DockerfileParser.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    const exposed = parsed.getInstructions().filter((i) => i.getKeyword() === 'EXPOSE').flatMap((i) => (i.getArgumentsContent() ?? '').split(/\s+/));
    expect(exposed).toContain('9464');
  });
});
