// The Dockerfile and Kubernetes manifests cannot run here (no Docker engine, no cluster), so they
// are checked as text: the Dockerfile with a real parser and linter (dockerfile-utils/-ast), the
// manifests against the Kubernetes OpenAPI schemas (kubernetes-models), and both against the
// gateway's own configuration so they cannot drift apart.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/processes.js';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const defaults = JSON.parse(readFileSync(join(ROOT, 'config/default.json'), 'utf8'));
const production = JSON.parse(readFileSync(join(ROOT, 'config/production.json'), 'utf8'));

describe('Dockerfile', () => {
  const parsed = DockerfileParser.parse(dockerfile);
  const instructions = parsed.getInstructions();
  const froms = parsed.getFROMs();
  const finalStageStart = froms.at(-1)!.getRange().start.line;
  const finalStage = instructions.filter((i) => i.getRange().start.line >= finalStageStart);
  const args = (kw: string) => finalStage.filter((i) => i.getKeyword() === kw).map((i) => i.getArgumentsContent() ?? '');

  it('has no lint diagnostics', () => {
    expect(lintDockerfile(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });
  it('is multi-stage on a pinned Node LTS base', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f.getImageName() + ':' + f.getImageTag()).toMatch(/^node:(20|22|24)\.\d+(\.\d+)?-[a-z]+(-slim)?$/);
  });
  it('installs production dependencies only, runs as a non-root user, and has a HEALTHCHECK on /healthz', () => {
    expect(args('RUN').some((r) => r.includes('npm ci') && r.includes('--omit=dev'))).toBe(true);
    const user = args('USER').at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(args('HEALTHCHECK').join(' ')).toContain('/healthz');
    expect(args('EXPOSE')).toContain(String(defaults.server.port));
  });
  it('bakes no secret in', () => {
    for (const i of instructions.filter((x) => ['ENV', 'ARG'].includes(x.getKeyword()))) {
      expect(i.getArgumentsContent()).not.toMatch(/SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL|KEY/i);
    }
    expect(dockerfile).not.toMatch(/COPY\s+(\.\s|\.env|data\/)/);
  });
});

describe('Kubernetes manifests', () => {
  const dir = join(ROOT, 'config/kubernetes');
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => ({ file: f, doc: d.toJS() as { kind: string; apiVersion: string } })));
  const MODELS: Record<string, new (data: never) => { validate(): void }> = {
    'apps/v1/Deployment': Deployment as never,
    'v1/Service': Service as never,
    'v1/ConfigMap': ConfigMap as never,
    'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as never,
    'policy/v1/PodDisruptionBudget': PodDisruptionBudget as never,
  };
  const find = (kind: string) => docs.find((d) => d.doc.kind === kind)?.doc as any;

  it('has the Deployment, Service, HPA, PDB and ConfigMap', () => {
    expect(docs.map((d) => d.doc.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service']);
  });

  it.each(docs.map((d) => [d.file, d.doc] as const))('%s validates against the Kubernetes schema', (_file, doc) => {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    expect(Model, `no model for ${doc.apiVersion} ${doc.kind}`).toBeDefined();
    expect(() => new Model!(doc as never).validate()).not.toThrow();
  });

  it('agree with each other and with the gateway', () => {
    const dep = find('Deployment');
    const container = dep.spec.template.spec.containers[0];
    const labels = dep.spec.template.metadata.labels;
    expect(find('Service').spec.selector).toEqual(labels);
    expect(find('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    expect(find('HorizontalPodAutoscaler').spec.scaleTargetRef.name).toBe(dep.metadata.name);
    expect(find('PodDisruptionBudget').spec.minAvailable).toBeLessThan(find('HorizontalPodAutoscaler').spec.minReplicas);
    expect(container.ports[0].containerPort).toBe(Number(find('ConfigMap').data.PORT));
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.resources.limits.memory).toBeDefined();
    // Secrets by reference only, never in the ConfigMap.
    const secretEnv = container.env.filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name).sort();
    expect(secretEnv).toEqual(['DATABASE_URL', 'IDENTITY_SECRET', 'REDIS_URL']);
    expect(Object.keys(find('ConfigMap').data).join(' ')).not.toMatch(/SECRET|DATABASE_URL|REDIS_URL|PASSWORD/);
    // The pod is given longer to stop than the gateway takes to drain.
    const drainSeconds = (production.shutdown.drainDelayMs + production.shutdown.timeoutMs) / 1000;
    expect(dep.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds);
  });
});
