import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { createNatsUser } from '@ticketing/testing';
import { loadConfig as loadAuthConfig } from '../../auth/src/config.js';
import { loadConfig as loadOrdersConfig } from '../../orders/src/config.js';
import { loadConfig as loadClientConfig } from '../../client/src/config.js';

// The Kubernetes manifests, checked offline: against the Kubernetes schemas, against the code
// (every variable a service reads, every one it needs, ports, probe paths), against themselves (the
// Services the client calls, what the NetworkPolicies let through) and against the README (the
// Secrets and ConfigMaps it says how to make), and skaffold against the Dockerfile.
const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

type Doc = { apiVersion: string; kind: string; metadata: { name: string }; [key: string]: unknown };
type Container = {
  name: string; image: string; env?: { name: string; value?: string; valueFrom?: Record<string, { name: string; key: string; optional?: boolean }> }[];
  ports?: { name: string; containerPort: number }[]; readinessProbe?: Probe; livenessProbe?: Probe; startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[]; securityContext?: Record<string, unknown>; resources?: { requests?: object; limits?: object };
};
type Probe = { httpGet?: { path: string; port: string | number }; failureThreshold?: number; periodSeconds?: number };
type Labels = Record<string, string>;
type ServiceDoc = { spec: { selector: Labels; ports: { name: string; port: number; targetPort: string | number }[] } };
type PolicyDoc = {
  metadata: { name: string };
  spec: { podSelector: { matchLabels?: Labels }; policyTypes: string[]; ingress?: { from?: Record<string, unknown>[]; ports?: { port?: number | string }[] }[] };
};

/** The services this repository builds, each a Deployment of the same name. */
const SERVICES = ['auth', 'orders', 'client'] as const;
type ServiceName = (typeof SERVICES)[number];
/** The services that keep a ban list, and so export how far ban events have got on their metrics port. */
const BAN_LIST_SERVICES = ['auth', 'orders'] as const;

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment, 'apps/v1/StatefulSet': StatefulSet, 'v1/Service': Service, 'v1/ConfigMap': ConfigMap,
  'networking.k8s.io/v1/Ingress': Ingress, 'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy, 'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** The documents of a kustomization's resources (files, or other kustomizations), and its config map generators. */
function load(dir: string): Doc[] {
  const kustomization = parse(read(join(dir, 'kustomization.yaml'))) as {
    resources: string[]; replicas?: { name: string; count: number }[];
    patches?: { target: { kind: string; name: string }; patch: string }[];
    configMapGenerator?: { name: string; files: string[] }[];
  };
  const docs: Doc[] = [];
  for (const resource of kustomization.resources) {
    const path = join(dir, resource);
    if (existsSync(join(root, path, 'kustomization.yaml'))) docs.push(...load(path));
    else docs.push(...parseAllDocuments(read(path)).map((doc) => doc.toJS() as Doc));
  }
  for (const generator of kustomization.configMapGenerator ?? []) {
    const data = Object.fromEntries(generator.files.map((file) => [file.split('/').at(-1)!, read(join(dir, file))]));
    docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data });
  }
  for (const { name, count } of kustomization.replicas ?? []) {
    const target = docs.find((doc) => doc.metadata.name === name && doc.kind === 'Deployment');
    if (target === undefined) throw new Error(`${dir}: replicas for ${name}, which is not a Deployment here`);
    (target.spec as { replicas: number }).replicas = count;
  }
  for (const { target, patch } of kustomization.patches ?? []) {
    const names = new RegExp(`^(${target.name})$`);
    const targets = docs.filter((doc) => doc.kind === target.kind && names.test(doc.metadata.name));
    if (targets.length === 0) throw new Error(`${dir}: a patch for ${target.kind} ${target.name}, which is not here`);
    for (const doc of targets) for (const op of parse(patch) as { op: string; path: string; value: unknown }[]) applyPatch(doc, op);
  }
  return docs;
}

/** One JSON Patch `test`, `add` or `replace` (all the overlays use); a path that does not exist is an error. */
function applyPatch(doc: Doc, op: { op: string; path: string; value: unknown }): void {
  const keys = op.path.split('/').slice(1);
  let node = doc as unknown as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) throw new Error(`${doc.metadata.name}: no ${op.path}`);
    node = node[key] as Record<string, unknown>;
  }
  const last = keys.at(-1)!;
  if (op.op === 'replace' && !(last in node)) throw new Error(`${doc.metadata.name}: nothing at ${op.path} to replace`);
  if (op.op === 'test') {
    if (JSON.stringify(node[last]) !== JSON.stringify(op.value)) throw new Error(`${doc.metadata.name}: ${op.path} is not ${JSON.stringify(op.value)}`);
    return;
  }
  if (op.op !== 'replace' && op.op !== 'add') throw new Error(`unexpected patch op ${op.op}`);
  node[last] = op.value;
}

const overlays = ['infra/k8s/base', 'infra/k8s/overlays/dev', 'infra/k8s/overlays/prod'];
const base = load('infra/k8s/base');
const find = <T = Doc>(docs: Doc[], kind: string, name: string) => {
  const doc = docs.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
  if (doc === undefined) throw new Error(`no ${kind} ${name}`);
  return doc as unknown as T;
};
const containerOf = (docs: Doc[], kind: string, name: string): Container =>
  find<{ spec: { template: { spec: { containers: Container[] } } } }>(docs, kind, name).spec.template.spec.containers[0]!;

/**
 * The variables a service's config reads: every quoted UPPER_SNAKE name in its config code. The
 * client reads, of common's, only what `loadProcessConfig` does.
 */
function variablesRead(service: ServiceName): Set<string> {
  const names = (text: string) => [...text.matchAll(/'([A-Z][A-Z0-9_]+)'/g)].map((match) => match[1]!);
  const own = names(read(`${service}/src/config.ts`));
  if (service === 'client') {
    const config = read('common/src/runtime/config.ts');
    const start = config.indexOf('export function loadProcessConfig');
    return new Set([...own, ...names(config.slice(start, config.indexOf('\n}\n', start)))]);
  }
  const common = ['common/src/runtime/config.ts', 'common/src/runtime/token-keys-config.ts', 'common/src/runtime/nats-credentials-config.ts'];
  return new Set([...own, ...common.flatMap((file) => names(read(file)))]);
}

/** The labels and container ports of a workload's pods. */
function podsOf(docs: Doc[], kind: string, name: string): { labels: Labels; ports: { name: string; containerPort: number }[] } {
  const workload = find<{ spec: { template: { metadata: { labels: Labels }; spec: { containers: Container[] } } } }>(docs, kind, name);
  return { labels: workload.spec.template.metadata.labels, ports: workload.spec.template.spec.containers.flatMap((container) => container.ports ?? []) };
}

const selects = (selector: { matchLabels?: Labels }, labels: Labels) => Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);

/**
 * Whether the NetworkPolicies let a connection reach a pod's port: from a pod of this namespace
 * (its labels), or from outside it (another namespace, such as ingress-nginx's, or off the cluster).
 * A pod no policy selects takes everything; one that is selected takes what some rule allows. Only
 * the peers these manifests use are understood (podSelector); any other is an error, not a guess.
 */
function admits(policies: PolicyDoc[], target: { labels: Labels; ports: { name: string; containerPort: number }[] }, port: number, source: Labels | 'outside'): boolean {
  const applying = policies.filter((policy) => policy.spec.policyTypes.includes('Ingress') && selects(policy.spec.podSelector, target.labels));
  if (applying.length === 0) return true;
  return applying.some((policy) => (policy.spec.ingress ?? []).some((rule) => {
    const portMatches = rule.ports === undefined || rule.ports.some((item) =>
      item.port === undefined || item.port === port || target.ports.some((named) => named.name === item.port && named.containerPort === port));
    if (!portMatches) return false;
    if (rule.from === undefined || rule.from.length === 0) return true;
    return rule.from.some((peer) => {
      const keys = Object.keys(peer);
      if (keys.length !== 1 || keys[0] !== 'podSelector') throw new Error(`NetworkPolicy ${policy.metadata.name}: a peer of ${keys.join(', ')}, which this check does not evaluate`);
      return source !== 'outside' && selects(peer.podSelector as { matchLabels?: Labels }, source);
    });
  }));
}

describe('the Kubernetes manifests', () => {
  it.each(overlays)('%s: every document is valid against the Kubernetes schemas', (dir) => {
    const docs = load(dir);
    expect(docs.length).toBeGreaterThanOrEqual(27);
    for (const doc of docs) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      expect(Model, `${doc.kind} ${doc.metadata.name}`).toBeDefined();
      expect(() => new Model!(doc as never).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
  });

  // kustomize (in kubectl) parses YAML as Go does, stricter than the yaml package: where it is
  // installed (on CI it is), the overlays are rendered by it too, and must give the same documents.
  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.each(overlays)('%s: kustomize renders the same documents, each valid (where kubectl is installed)', (dir) => {
    const ours = load(dir).map((doc) => `${doc.kind}/${doc.metadata.name}`).sort();
    // Without kubectl, the lint below guards the one construct Go's YAML refuses and ours takes.
    if (!kubectl) return;
    const rendered = parseAllDocuments(execFileSync('kubectl', ['kustomize', join(root, dir)], { encoding: 'utf8' })).map((doc) => doc.toJS() as Doc);
    // kustomize appends a hash to generated ConfigMaps' names.
    expect(rendered.map((doc) => `${doc.kind}/${doc.metadata.name.replace(/^(nats-config)-[a-z0-9]{10}$/, '$1')}`).sort()).toEqual(ours);
    for (const doc of rendered) expect(() => new MODELS[`${doc.apiVersion}/${doc.kind}`]!(doc as never).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow();
  });

  it('no YAML file has a ? inside a flow mapping, which Go\'s YAML (kustomize, kubectl) refuses unless quoted', () => {
    const { resources } = parse(read('infra/k8s/base/kustomization.yaml')) as { resources: string[] };
    const files = resources.map((file) => `infra/k8s/base/${file}`);
    expect(files).toContain('infra/k8s/base/client.yaml');
    for (const file of files) {
      for (const line of read(file).split('\n')) expect(line, file).not.toMatch(/\{[^}"']*\?[^}]*\}/);
    }
  });

  it('a schema violation is caught (the check can fail)', () => {
    const broken = structuredClone(find(base, 'Deployment', 'auth'));
    (broken as unknown as { spec: { replicas: string } }).spec.replicas = 'two';
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dir = mkdtempSync(join(tmpdir(), 'ticketing-manifests-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The environment a container gets, with the Secrets and ConfigMaps filled by test values, and the seed file where it is mounted. */
  function environmentOf(container: Container, service: ServiceName): Record<string, string> {
    const fixtures: Record<string, string> = {
      'jwt-signing-key/private.pem': keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      'jwt-public-keys/public.pem': keys.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      'auth-database/url': 'postgres://auth:pw@auth-postgres:5432/auth',
      'orders-database/url': 'postgres://orders:pw@orders-postgres:5432/orders',
      'auth-settings/admin-emails': 'admin@example.com',
      // As the README makes it: openssl rand -base64 48.
      'client-keys/anti-forgery-key': randomBytes(48).toString('base64'),
    };
    const env: Record<string, string> = {};
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined) env[variable.name] = variable.value;
      const ref = variable.valueFrom?.secretKeyRef ?? variable.valueFrom?.configMapKeyRef;
      if (ref !== undefined) env[variable.name] = fixtures[`${ref.name}/${ref.key}`] ?? (() => { throw new Error(`no fixture for ${ref.name}/${ref.key}`); })();
    }
    // The client has no NATS user.
    if (service === 'client') return env;
    // The seed file is where the Secret is mounted; here, a seed of a test user.
    expect(container.volumeMounts?.some((mount) => env.NATS_NKEY_SEED_FILE?.startsWith(`${mount.mountPath}/`))).toBe(true);
    env.NATS_NKEY_SEED_FILE = createNatsUser(dir, service).seedFile;
    return env;
  }

  const loadConfigOf = (service: ServiceName, env: Record<string, string>): { port: number; metricsPort: number } =>
    ({ auth: loadAuthConfig, orders: loadOrdersConfig, client: loadClientConfig })[service](env);

  it.each(['auth', 'orders'] as const)('%s: sets only variables its config reads, and its config loads from them as production', (service) => {
    const container = containerOf(base, 'Deployment', service);
    const known = variablesRead(service);
    for (const variable of container.env ?? []) expect(known, variable.name).toContain(variable.name);
    const config = (service === 'auth' ? loadAuthConfig : loadOrdersConfig)(environmentOf(container, service));
    expect(config).toMatchObject({ production: true, trustProxy: 1, jwtAlgorithm: 'ES256', port: service === 'auth' ? 3000 : 3001 });
    expect(config.natsUrl.split(',')).toHaveLength(3);
    if (service === 'auth') expect(config).toMatchObject({ authStreamReplicas: 3 });
    // Only auth holds the private key.
    expect(container.env?.some((variable) => variable.name === 'JWT_PRIVATE_KEY')).toBe(service === 'auth');
  });

  it('client: sets only variables its config reads, its config loads from them as production, and it holds no token key', () => {
    const container = containerOf(base, 'Deployment', 'client');
    const known = variablesRead('client');
    for (const variable of container.env ?? []) expect(known, variable.name).toContain(variable.name);
    // It verifies no tokens, so no key of any kind (it refuses JWT_KEY and JWT_PRIVATE_KEY at startup).
    expect((container.env ?? []).filter((variable) => variable.name.startsWith('JWT_'))).toEqual([]);
    const config = loadClientConfig(environmentOf(container, 'client'));
    expect(config).toMatchObject({ production: true, trustProxy: 1, port: 3002, metricsPort: 9302 });
    expect(config.antiForgeryKey).toBeTruthy();
    // auth and orders at their Services' http ports.
    for (const [service, origin] of [['auth', config.authUrl], ['orders', config.ordersUrl]] as const) {
      const url = new URL(origin);
      expect(url.hostname).toBe(service);
      expect(find<ServiceDoc>(base, 'Service', service).spec.ports.find((port) => port.name === 'http')?.port).toBe(Number(url.port));
    }
  });

  it.each(SERVICES)('%s: listens where its config listens by default (the ports the README and local runs use)', (service) => {
    const container = containerOf(base, 'Deployment', service);
    const env = environmentOf(container, service);
    const defaults = loadConfigOf(service, Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'PORT' && name !== 'METRICS_PORT')));
    const port = (name: string) => container.ports?.find((candidate) => candidate.name === name)?.containerPort;
    expect([port('http'), port('metrics')]).toEqual([defaults.port, defaults.metricsPort]);
  });

  it.each(SERVICES)('%s: probes, ports, replicas, a PodDisruptionBudget and a locked-down container', (service) => {
    const deployment = find<{ spec: { replicas: number; template: { spec: { securityContext: { runAsNonRoot: boolean }; automountServiceAccountToken: boolean } } } }>(base, 'Deployment', service);
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(deployment.spec.template.spec.automountServiceAccountToken).toBe(false);
    const container = containerOf(base, 'Deployment', service);
    const env = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value]));
    const port = (name: string) => container.ports?.find((candidate) => candidate.name === name)?.containerPort;
    expect(String(port('http'))).toBe(env.PORT);
    expect(String(port('metrics'))).toBe(env.METRICS_PORT);
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/healthz/ready', port: 'http' });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz/live', port: 'http' });
    if (service === 'client') {
      // It replays nothing before it is ready: no startup probe holds liveness off.
      expect(container.startupProbe).toBeUndefined();
    } else {
      expect(container.startupProbe?.httpGet).toEqual({ path: '/healthz/ready', port: 'http' });
      // Long enough for a replay of the longest window (ACCESS_TOKEN_TTL up to 24 h of bans): 5 minutes.
      expect(container.startupProbe!.failureThreshold! * container.startupProbe!.periodSeconds!).toBeGreaterThanOrEqual(300);
    }
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(container.resources?.requests).toBeDefined();
    expect(container.resources?.limits).toBeDefined();
    const serviceDoc = find<ServiceDoc>(base, 'Service', service);
    // The service's own Service, which the ingress routes to, exposes the http port alone.
    expect(serviceDoc.spec.ports).toEqual([{ name: 'http', port: port('http'), targetPort: 'http' }]);
    expect(find<{ spec: { selector: { matchLabels: object } } }>(base, 'PodDisruptionBudget', service).spec.selector.matchLabels).toEqual(serviceDoc.spec.selector);
    // The metrics port is behind a Service of its own only where the client reads it, and exposes nothing else.
    const metrics = base.filter((doc) => doc.kind === 'Service' && doc.metadata.name === `${service}-metrics`) as unknown as ServiceDoc[];
    expect(metrics.length).toBe((BAN_LIST_SERVICES as readonly string[]).includes(service) ? 1 : 0);
    for (const doc of metrics) {
      expect(doc.spec.selector).toEqual(serviceDoc.spec.selector);
      expect(doc.spec.ports).toEqual([{ name: 'metrics', port: port('metrics'), targetPort: 'metrics' }]);
    }
  });

  it('client: BAN_METRICS_URLS names every service with a ban list, each at a Service onto that service\'s metrics port', () => {
    const { banMetrics } = loadClientConfig(environmentOf(containerOf(base, 'Deployment', 'client'), 'client'));
    expect(banMetrics.map((endpoint) => endpoint.name)).toEqual([...BAN_LIST_SERVICES]);
    for (const { name, url } of banMetrics) {
      const target = new URL(url);
      expect(target.pathname, name).toBe('/metrics');
      const serviceDoc = find<ServiceDoc>(base, 'Service', target.hostname);
      const servicePort = serviceDoc.spec.ports.find((port) => port.port === Number(target.port));
      expect(servicePort, url).toBeDefined();
      // The Service's pods are the named service's, and the port it forwards to is the one METRICS_PORT opens.
      expect(serviceDoc.spec.selector).toEqual(find<ServiceDoc>(base, 'Service', name).spec.selector);
      const container = containerOf(base, 'Deployment', name);
      const metricsPort = Number(container.env!.find((variable) => variable.name === 'METRICS_PORT')!.value);
      const targetPort = typeof servicePort!.targetPort === 'number'
        ? servicePort!.targetPort
        : container.ports!.find((port) => port.name === servicePort!.targetPort)?.containerPort;
      expect(targetPort, url).toBe(metricsPort);
    }
  });

  it.each(overlays)('%s: the NetworkPolicies let only the client reach auth\'s and orders\' metrics ports, and anyone the services\' http ports', (overlay) => {
    const docs = load(overlay);
    const policies = docs.filter((doc) => doc.kind === 'NetworkPolicy') as unknown as PolicyDoc[];
    const workloads = docs.filter((doc) => doc.kind === 'Deployment' || doc.kind === 'StatefulSet');
    const sources: [string, Labels | 'outside'][] = [
      ...workloads.map((doc) => [doc.metadata.name, podsOf(docs, doc.kind, doc.metadata.name).labels] as [string, Labels]),
      ['another pod of the namespace', { app: 'debug' }],
      ['outside the namespace (ingress-nginx)', 'outside'],
    ];
    const reachedFrom = (target: ServiceName, portName: string) => {
      const pods = podsOf(docs, 'Deployment', target);
      const port = pods.ports.find((candidate) => candidate.name === portName)!.containerPort;
      return sources.filter(([, source]) => admits(policies, pods, port, source)).map(([name]) => name);
    };
    for (const service of BAN_LIST_SERVICES) expect(reachedFrom(service, 'metrics'), service).toEqual(['client']);
    // Nothing here reads the client's own metrics.
    expect(reachedFrom('client', 'metrics')).toEqual([]);
    for (const service of SERVICES) expect(reachedFrom(service, 'http'), service).toEqual(sources.map(([name]) => name));
    // The client reaches the services it calls, and neither NATS nor a database.
    const client = podsOf(docs, 'Deployment', 'client').labels;
    for (const [kind, name, port] of [['StatefulSet', 'nats', 4222], ['StatefulSet', 'auth-postgres', 5432], ['StatefulSet', 'orders-postgres', 5432]] as const) {
      expect(admits(policies, podsOf(docs, kind, name), port, client), name).toBe(false);
    }
  });

  it('the NetworkPolicy check can fail: a policy that lets any pod reach the metrics port is caught', () => {
    const policies = base.filter((doc) => doc.kind === 'NetworkPolicy') as unknown as PolicyDoc[];
    const open: PolicyDoc = { metadata: { name: 'open' }, spec: { podSelector: { matchLabels: { app: 'auth' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 'metrics' }] }] } };
    const auth = podsOf(base, 'Deployment', 'auth');
    expect(admits(policies, auth, 9300, { app: 'debug' })).toBe(false);
    expect(admits([...policies, open], auth, 9300, { app: 'debug' })).toBe(true);
    expect(() => admits([{ ...open, spec: { ...open.spec, ingress: [{ from: [{ namespaceSelector: {} }] }] } }], auth, 9300, 'outside')).toThrow(/does not evaluate/);
  });

  it('the overlays: dev runs one replica of each service, all in development (no TLS in front); prod runs the base\'s, in production', () => {
    for (const [overlay, replicas, nodeEnv] of [['infra/k8s/overlays/dev', 1, 'development'], ['infra/k8s/overlays/prod', 2, 'production']] as const) {
      const docs = load(overlay);
      for (const service of SERVICES) {
        expect(find<{ spec: { replicas: number } }>(docs, 'Deployment', service).spec.replicas, `${overlay} ${service}`).toBe(replicas);
        expect(containerOf(docs, 'Deployment', service).env!.find((variable) => variable.name === 'NODE_ENV')?.value, `${overlay} ${service}`).toBe(nodeEnv);
      }
    }
  });

  it('the ingress sends auth\'s routes to auth, orders\' to orders, every other path to the client, and no metrics anywhere', () => {
    const ingress = find<{ spec: { rules: { http: { paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[] } }[] } }>(base, 'Ingress', 'ticketing');
    const routes = ingress.spec.rules[0]!.http.paths.map((path) => [path.path, path.backend.service.name, path.backend.service.port.name]);
    expect(routes).toEqual([
      ['/api/users', 'auth', 'http'], ['/api/admin', 'auth', 'http'], ['/.well-known', 'auth', 'http'], ['/api/orders', 'orders', 'http'],
      ['/', 'client', 'http'],
    ]);
    // Prefixes: ingress-nginx takes the longest that matches, so / is what no other route takes.
    expect(ingress.spec.rules[0]!.http.paths.every((path) => (path as { pathType?: string }).pathType === 'Prefix')).toBe(true);
  });

  it('NATS: a 3-node JetStream StatefulSet with a headless Service, the repository\'s accounts, and every user key set', () => {
    const nats = find<{ spec: { replicas: number; serviceName: string; template: { spec: { containers: Container[] } } } }>(base, 'StatefulSet', 'nats');
    expect(nats.spec.replicas).toBe(3);
    expect(find<{ spec: { clusterIP: string } }>(base, 'Service', nats.spec.serviceName).spec.clusterIP).toBe('None');
    const config = find<{ data: Record<string, string> }>(base, 'ConfigMap', 'nats-config').data;
    // The very accounts and users of nats/, so the cluster enforces what the tests prove.
    expect(config['accounts.conf']).toBe(read('nats/accounts.conf'));
    expect(config['nats-server.conf']).toMatch(/include \.\/accounts\.conf/);
    // The routes come from the Secret nats-routes (they carry the route password): the README's command writes them.
    expect(config['nats-server.conf']).toMatch(/cluster \{[^}]*include \.\/routes\.conf/);
    const readme = read('README.md');
    const routes = [...readme.matchAll(/nats:\/\/route:\$ROUTE_PW@(nats-\d)\.(nats-headless):6222/g)];
    expect(routes.map((route) => route[1])).toEqual(['nats-0', 'nats-1', 'nats-2']);
    expect(new Set(routes.map((route) => route[2]))).toEqual(new Set([nats.spec.serviceName]));
    const env = new Set(nats.spec.template.spec.containers[0]!.env!.map((variable) => variable.name));
    for (const [, variable] of read('nats/accounts.conf').matchAll(/nkey: \$([A-Z_]+)/g)) expect(env, variable).toContain(variable);
    // The services dial every node.
    for (const service of ['auth', 'orders']) {
      const url = containerOf(base, 'Deployment', service).env!.find((variable) => variable.name === 'NATS_URL')!.value!;
      expect(url).toBe(routes.map((route) => `nats://${route[1]}.${route[2]}:4222`).join(','));
    }
  });

  it('every Secret and ConfigMap the manifests read is one the README says how to make', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Deploy to Kubernetes'), readme.indexOf('\n## ', readme.indexOf('## Deploy to Kubernetes') + 1));
    expect(section.length).toBeGreaterThan(100);
    const referenced = new Set<string>();
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === 'object' && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          if ((key === 'secretKeyRef' || key === 'configMapKeyRef') && !(value as { optional?: boolean }).optional) referenced.add((value as { name: string }).name);
          // A volume names its Secret secretName; a projected source names it name.
          if (key === 'secret') referenced.add((value as { secretName?: string; name?: string }).secretName ?? (value as { name: string }).name);
          if (key === 'configMap') referenced.add((value as { name: string }).name);
          walk(value);
        }
      }
    };
    walk(base);
    referenced.delete('nats-config'); // made by kustomize from infra/k8s/base/nats
    expect(referenced).toContain('client-keys');
    expect(referenced.size).toBeGreaterThanOrEqual(8);
    for (const name of referenced) expect(section, name).toMatch(new RegExp(`kubectl -n ticketing create (secret generic|configmap) ${name} `));
  });
});

describe('skaffold and the Dockerfile', () => {
  const skaffold = parse(read('skaffold.yaml')) as {
    build: { artifacts: { image: string; context: string; docker: { dockerfile: string; buildArgs: { SERVICE: string } } }[] };
    manifests: { kustomize: { paths: string[] } };
    profiles: { name: string; manifests: { kustomize: { paths: string[] } } }[];
  };

  it('builds one image per Deployment, from the Dockerfile, for a service that exists', () => {
    const images = skaffold.build.artifacts.map((artifact) => artifact.image).sort();
    const deployed = SERVICES.map((service) => containerOf(base, 'Deployment', service).image).sort();
    expect(images).toEqual(deployed);
    for (const artifact of skaffold.build.artifacts) {
      expect(existsSync(join(root, artifact.context, artifact.docker.dockerfile))).toBe(true);
      expect(existsSync(join(root, artifact.docker.buildArgs.SERVICE, 'src/main.ts'))).toBe(true);
      expect(artifact.image).toBe(`ticketing-${artifact.docker.buildArgs.SERVICE}`);
    }
    for (const path of [...skaffold.manifests.kustomize.paths, ...skaffold.profiles.flatMap((profile) => profile.manifests.kustomize.paths)]) {
      expect(existsSync(join(root, path, 'kustomization.yaml')), path).toBe(true);
    }
  });

  it('the image: two stages, production dependencies only, a non-root user, node as PID 1', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
    expect(runtime).not.toMatch(/COPY (common|auth|orders|client|testing)\/ /);
    // Every service skaffold builds is a workspace both stages install, and its sources are compiled.
    const build = dockerfile.slice(0, dockerfile.lastIndexOf('\nFROM '));
    for (const { docker: { buildArgs: { SERVICE: service } } } of skaffold.build.artifacts) {
      expect(build, service).toMatch(new RegExp(`^COPY ${service}/package\\.json ${service}/$`, 'm'));
      expect(runtime, service).toMatch(new RegExp(`^COPY ${service}/package\\.json ${service}/$`, 'm'));
      expect(build, service).toMatch(new RegExp(`^COPY ${service}/ ${service}/$`, 'm'));
    }
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.data', '**/test', 'e2e', 'bench']) expect(ignored).toContain(entry);
  });
});
