// The Dockerfile and Kubernetes manifests cannot run here (no Docker engine, no cluster), so they
// are checked as text: the Dockerfile with a real parser and linter (dockerfile-utils/-ast), the
// manifests against the Kubernetes OpenAPI schemas (kubernetes-models), and both against the
// gateway's own configuration so they cannot drift apart.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { CREDENTIAL_HEADERS } from '../../src/credentials/extract-rest.js';
import { IDENTITY } from '../../src/forward-auth/decision.js';
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
    'networking.k8s.io/v1/Ingress': Ingress as never,
  };
  const named = (kind: string, name: string) => docs.find((d) => d.doc.kind === kind && (d.doc as any).metadata.name === name)?.doc as any;
  const find = (kind: string) => named(kind, 'gatehouse');

  it('has the Deployment, Services, HPA, PDB, ConfigMap and the Ingresses', () => {
    expect(docs.map((d) => d.doc.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Ingress', 'Ingress', 'PodDisruptionBudget', 'Service', 'Service']);
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

  // ingress-nginx in front, Gatehouse deciding (forward-auth mode, docs/forward-auth.md)
  describe('forward-auth with ingress-nginx', () => {
    const cm = () => find('ConfigMap').data as Record<string, string>;
    const rest = () => named('Ingress', 'gatehouse-rest');
    const annotation = (name: string) => rest().metadata.annotations[`nginx.ingress.kubernetes.io/${name}`];

    it('the ConfigMap turns the decision endpoint on, for the edges, judging the URI as sent', () => {
      // the gateway reads the ConfigMap's variables exactly as it would in the pod
      const env = Object.fromEntries(Object.entries(cm()).filter(([k]) => k.startsWith('FORWARD_AUTH_')));
      const { forwardAuth } = loadConfig({ NODE_ENV: 'test', ...env });
      expect(forwardAuth.enabled).toBe(true);
      expect(forwardAuth.edges.length).toBeGreaterThan(0);
      // ingress-nginx forwards the URI as the client sent it
      expect(forwardAuth.edgeForwards).toBe('original');
    });

    it('auth-url names the gatehouse Service, its port and the decision path; the identity goes upstream; nothing cached', () => {
      const { forwardAuth } = loadConfig({ ...cm(), NODE_ENV: 'test' });
      const url = new URL(annotation('auth-url'));
      const service = find('Service');
      expect(url.hostname.split('.')[0]).toBe(service.metadata.name);
      expect(url.hostname).toMatch(/\.svc\.cluster\.local$/);
      expect(Number(url.port || 80)).toBe(service.spec.ports[0].port);
      expect(url.pathname).toBe(forwardAuth.path);
      expect(annotation('auth-response-headers').split(',').map((h: string) => h.trim())).toContain(IDENTITY);
      expect(Number(annotation('auth-keepalive'))).toBeGreaterThan(0);
      expect(annotation('auth-cache-key')).toBeUndefined();
    });

    it('REST (any case: regex paths) goes to the platform, the rest Gatehouse serves to Gatehouse, the decision path nowhere', () => {
      expect(annotation('use-regex')).toBe('true');
      const restPaths = rest().spec.rules.flatMap((r: any) => r.http.paths);
      expect(restPaths.map((p: any) => p.path)).toEqual(['/api/']);
      const platform = named('Service', restPaths[0].backend.service.name);
      expect(platform.spec.type).toBe('ExternalName');
      expect(platform.spec.externalName).toBe(new URL(cm().UPSTREAM_ENVELOPE_URL!).hostname);
      const others = named('Ingress', 'gatehouse').spec.rules.flatMap((r: any) => r.http.paths);
      for (const p of others) expect(p.backend.service.name).toBe(find('Service').metadata.name);
      const matches = (path: string) => others.some((p: any) => new RegExp(`^${p.path}`, 'i').test(path));
      for (const path of ['/api.asmx', '/settings', '/settings/api/tokens', '/oauth/token', '/Auth/Authorize', '/ApiToken/Retrieve', '/.well-known/jwks.json', '/security/leaked-tokens']) {
        expect(matches(path), path).toBe(true);
      }
      for (const path of ['/_gatehouse/auth', '/_gatehouse/auth/Api/v6/envelope/1', '/metrics', '/Api/v6/envelope/1']) expect(matches(path), path).toBe(false);
    });

    it('says where the credential headers go (ingress-nginx cannot strip them per Ingress)', () => {
      const text = readFileSync(join(dir, 'ingress.yaml'), 'utf8');
      for (const h of CREDENTIAL_HEADERS) expect(text.toLowerCase()).toContain(h);
    });
  });
});
