// The Kubernetes manifests in deploy/k8s, checked without a cluster: each
// overlay is rendered by kustomize, every object is validated against the
// Kubernetes JSON schemas by kubernetes-validate (strict: unknown fields are
// errors), the objects are checked against each other, and the configuration
// each pod would get is loaded by that app's own config schema.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadOrCreateSigningKey } from '@membrane/config';
import { envOf, parseDockerfile, stagesOf } from './dockerfile.js';
import { checkStack, containersOf, ingressAllowedTo, objectNamed, objectsOf, parseManifests, podSpecOf } from './manifests.js';
import type { K8sObject } from './manifests.js';
import { REPO_ROOT, ensureDeployTools, run } from './tools.js';
import type { DeployTools } from './tools.js';

const OVERLAYS = ['embedded', 'scale-out'] as const;
/** The oldest Kubernetes we support (native gRPC probes are GA since 1.27) and the newest schemas bundled. */
const KUBERNETES_VERSIONS = ['1.29.0', '1.37.0'];
const APPS = ['membership-service', 'cs-gateway', 'federation-gateway'] as const;
type App = (typeof APPS)[number];

type Tree = Record<string, unknown>;
const tree = (value: unknown): Tree => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Tree) : {});
const list = (value: unknown): Tree[] => (Array.isArray(value) ? value.map(tree) : []);

let tools: DeployTools;
let scratch = '';
const rendered = new Map<string, { file: string; objects: K8sObject[] }>();

function render(dir: string): { status: number | null; text: string; stderr: string } {
  const result = run(tools.kustomize, ['build', dir]);
  return { status: result.status, text: result.stdout, stderr: result.stderr };
}

function validate(file: string, version: string): { status: number | null; output: string } {
  const result = run(tools.kubernetesValidate, ['--strict', '-k', version, file]);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function overlay(name: string): { file: string; objects: K8sObject[] } {
  const found = rendered.get(name);
  assert.ok(found, `overlay ${name} was not rendered`);
  return found;
}

function deployment(objects: readonly K8sObject[], name: string): K8sObject {
  const found = objectNamed(objects, 'Deployment', name);
  assert.ok(found, `no Deployment ${name}`);
  return found;
}

function container(d: K8sObject): Tree {
  const first = containersOf(d)[0];
  assert.ok(first, `Deployment ${d.metadata.name} has no container`);
  return first;
}

/** The environment the image gives every container (ENV of the Dockerfile's last stage). */
function imageEnv(): Map<string, string> {
  const final = stagesOf(parseDockerfile(readFileSync(join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8'))).at(-1);
  assert.ok(final);
  return envOf(final);
}

function secretValue(objects: readonly K8sObject[], name: string, key: string): string {
  const secret = objectNamed(objects, 'Secret', name);
  assert.ok(secret, `no Secret ${name}`);
  const encoded = tree(secret['data'])[key];
  if (typeof encoded === 'string') return Buffer.from(encoded, 'base64').toString('utf8');
  const plain = tree(secret['stringData'])[key];
  assert.equal(typeof plain, 'string', `Secret ${name} has no key ${key}`);
  return plain as string;
}

function configMapValue(objects: readonly K8sObject[], name: string, key: string): string {
  const value = tree(objectNamed(objects, 'ConfigMap', name)?.['data'])[key];
  assert.equal(typeof value, 'string', `ConfigMap ${name} has no key ${key}`);
  return value as string;
}

/** What the container's process would see: the image's ENV, then the pod's env (ConfigMap and Secret references resolved). */
function containerEnv(objects: readonly K8sObject[], c: Tree): Record<string, string> {
  const env: Record<string, string> = Object.fromEntries(imageEnv());
  for (const entry of list(c['env'])) {
    const name = String(entry['name']);
    const from = tree(entry['valueFrom']);
    if (typeof entry['value'] === 'string') env[name] = entry['value'];
    else if (from['configMapKeyRef'] !== undefined) env[name] = configMapValue(objects, String(tree(from['configMapKeyRef'])['name']), String(tree(from['configMapKeyRef'])['key']));
    else if (from['secretKeyRef'] !== undefined) env[name] = secretValue(objects, String(tree(from['secretKeyRef'])['name']), String(tree(from['secretKeyRef'])['key']));
  }
  return env;
}

/** The YAML file the container is started with (`--config PATH`), read from the ConfigMap mounted there. */
function containerConfigFile(objects: readonly K8sObject[], d: K8sObject, c: Tree): string {
  const args = (c['args'] as unknown[]).map(String);
  const path = args[args.indexOf('--config') + 1];
  assert.ok(path !== undefined && args.includes('--config'), `${d.metadata.name} is not started with --config`);
  const mount = list(c['volumeMounts']).find((m) => path.startsWith(`${String(m['mountPath'])}/`));
  assert.ok(mount, `no volume mounted at ${path}`);
  const volume = list(podSpecOf(d)['volumes']).find((v) => v['name'] === mount['name']);
  const configMap = String(tree(volume?.['configMap'])['name']);
  return configMapValue(objects, configMap, basename(path));
}

const LOADERS: Record<App, string> = {
  'membership-service': 'loadMembershipServiceConfig',
  'cs-gateway': 'loadCsGatewayConfig',
  'federation-gateway': 'loadFederationGatewayConfig',
};

/** Loads each app's config file and environment with that app's own schema, all in one child process. */
function loadAppConfigs(inputs: readonly { app: App; yamlText: string; env: Record<string, string> }[]): Tree[] {
  const jobs = inputs.map(({ app, yamlText, env }, i) => {
    const configFile = join(scratch, `${app}-${i}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(configFile, yamlText);
    return { app, module: pathToFileURL(join(REPO_ROOT, 'apps', app, 'src/config.ts')).href, loader: LOADERS[app], configFile, env };
  });
  const script = [
    'const out = [];',
    'for (const job of JSON.parse(process.env.DEPLOY_CHECK_INPUT)) {',
    '  const mod = await import(job.module);',
    '  try { out.push({ config: mod[job.loader](job.configFile, job.env) }); } catch (err) { out.push({ error: `${job.app}: ${err.message}` }); }',
    '}',
    'process.stdout.write(JSON.stringify(out));',
  ].join('\n');
  const result = run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, DEPLOY_CHECK_INPUT: JSON.stringify(jobs) } });
  assert.equal(result.status, 0, result.stderr);
  const answers = JSON.parse(result.stdout) as { config?: unknown; error?: string }[];
  return answers.map((answer) => {
    assert.equal(answer.error, undefined, `an app refuses its rendered configuration: ${answer.error ?? ''}`);
    return tree(answer.config);
  });
}

const configCache = new Map<string, Record<App, Tree>>();

/** The configuration each app of an overlay would run with, as its own schema parses it. */
function renderedAppConfigs(name: string): Record<App, Tree> {
  const cached = configCache.get(name);
  if (cached) return cached;
  const { objects } = overlay(name);
  const inputs = APPS.map((app) => {
    const d = deployment(objects, app);
    const c = container(d);
    assert.equal((c['args'] as unknown[])[0], app, `${app} is started as another app`);
    return { app, yamlText: containerConfigFile(objects, d, c), env: containerEnv(objects, c) };
  });
  const loaded = loadAppConfigs(inputs);
  const configs = Object.fromEntries(APPS.map((app, i) => [app, loaded[i] ?? {}])) as Record<App, Tree>;
  configCache.set(name, configs);
  return configs;
}

before(() => {
  tools = ensureDeployTools();
  scratch = mkdtempSync(join(tmpdir(), 'deploy-check-'));
  for (const name of OVERLAYS) {
    const { status, text, stderr } = render(join(REPO_ROOT, 'deploy/k8s/overlays', name));
    assert.equal(status, 0, `kustomize build ${name} failed:\n${stderr}`);
    const file = join(scratch, `${name}.yaml`);
    writeFileSync(file, text);
    rendered.set(name, { file, objects: parseManifests(text) });
  }
});

after(() => rmSync(scratch, { recursive: true, force: true }));

describe('the validators themselves', () => {
  it('kubernetes-validate rejects a wrongly typed field and, strictly, an unknown one', () => {
    const file = join(scratch, 'broken.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\nspec:\n  replicas: "three"\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: x, image: "x:1"}]\n',
        'apiVersion: v1\nkind: Service\nmetadata: {name: typo}\nspec:\n  selectr: {a: b}\n  ports: [{port: 80}]\n',
      ].join('---\n'),
    );
    const { status, output } = validate(file, '1.37.0');
    assert.notEqual(status, 0);
    assert.match(output, /deployment\/broken.*replicas/);
    assert.match(output, /service\/typo.*selectr/);
  });

  it('kubernetes-validate passes a correct object, so a pass means something', () => {
    const file = join(scratch, 'good.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\ndata: {a: b}\n');
    const { status, output } = validate(file, '1.37.0');
    assert.equal(status, 0, output);
  });

  it('kustomize refuses a kustomization that names a missing file', () => {
    const dir = join(scratch, 'missing');
    mkdirSync(dir);
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources:\n  - nowhere.yaml\n');
    const { status, stderr } = render(dir);
    assert.notEqual(status, 0);
    assert.match(stderr, /nowhere\.yaml/);
  });
});

for (const name of OVERLAYS) {
  describe(`overlay ${name}`, () => {
    for (const version of KUBERNETES_VERSIONS) {
      it(`validates object by object against the Kubernetes ${version} schemas`, () => {
        const { file, objects } = overlay(name);
        const { status, output } = validate(file, version);
        assert.equal(status, 0, output);
        const passed = output.split('\n').filter((line) => line.includes('passed for resource')).length;
        assert.equal(passed, objects.length, output);
      });
    }

    it('renders the three apps with their Services, disruption budgets and configuration', () => {
      const { objects } = overlay(name);
      for (const app of APPS) {
        assert.ok(objectNamed(objects, 'Deployment', app), `Deployment ${app}`);
        assert.ok(objectNamed(objects, 'Service', app), `Service ${app}`);
        assert.ok(objectNamed(objects, 'PodDisruptionBudget', app), `PodDisruptionBudget ${app}`);
      }
      assert.ok(objectNamed(objects, 'Secret', 'membrane-signing-key'));
    });

    it('holds together: selectors find their pods, references name objects that exist, every pod is hardened', () => {
      assert.deepEqual(checkStack(overlay(name).objects), []);
    });

    it('lets only the gateways reach the membership service, and only its gRPC port', () => {
      const { objects } = overlay(name);
      const allowed = ingressAllowedTo(objects, deployment(objects, 'membership-service'), 50051);
      assert.ok(allowed, 'no NetworkPolicy selects the membership service');
      assert.deepEqual([...allowed.from].sort(), ['cs-gateway', 'federation-gateway']);
      assert.deepEqual([...allowed.ports], [50051]);
      assert.equal(allowed.open, false);
      assert.equal(ingressAllowedTo(objects, deployment(objects, 'membership-service'), 9090)?.open, true, 'the metrics port can be scraped');
    });

    it('lets only the membership service call the federation gateway over gRPC, while its federation port stays public', () => {
      const { objects } = overlay(name);
      const gateway = deployment(objects, 'federation-gateway');
      const grpc = ingressAllowedTo(objects, gateway, 50052);
      assert.ok(grpc, 'no NetworkPolicy selects the federation gateway');
      assert.deepEqual([...grpc.from], ['membership-service']);
      assert.equal(grpc.open, false);
      assert.equal(ingressAllowedTo(objects, gateway, 8448)?.open, true);
    });

    it('probes the membership service over native gRPC and the gateways over HTTP', () => {
      const { objects } = overlay(name);
      const service = container(deployment(objects, 'membership-service'));
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        assert.deepEqual(tree(service[probe])['grpc'], { port: 50051 }, probe);
      }
      for (const [app, scheme] of [['cs-gateway', 'HTTP'], ['federation-gateway', 'HTTPS']] as const) {
        const c = container(deployment(objects, app));
        assert.equal(tree(tree(c['readinessProbe'])['httpGet'])['path'], '/readyz');
        assert.equal(tree(tree(c['livenessProbe'])['httpGet'])['path'], '/healthz');
        assert.equal(tree(tree(c['livenessProbe'])['httpGet'])['scheme'], scheme);
      }
    });

    it('autoscales the gateways and not the membership service', () => {
      const targets = objectsOf(overlay(name).objects, 'HorizontalPodAutoscaler').map((h) => String(tree(tree(h['spec'])['scaleTargetRef'])['name']));
      assert.deepEqual(targets.sort(), ['cs-gateway', 'federation-gateway']);
    });

    it('gives each app a configuration its own schema accepts, with one server name and the shared signing key', () => {
      const configs = renderedAppConfigs(name);
      for (const app of APPS) assert.equal(configs[app]['serverName'], 'example.org', app);
      assert.equal(tree(configs['membership-service']['grpc'])['listen'], '0.0.0.0:50051');
      assert.equal(tree(configs['cs-gateway']['listen'])['host'], '0.0.0.0');
      assert.equal(configs['federation-gateway']['listen'], '0.0.0.0:8448');
      assert.equal(tree(configs['cs-gateway']['membership'])['address'], 'membership-service:50051');
      assert.equal(tree(configs['federation-gateway']['membership'])['address'], 'membership-service:50051');
      assert.equal(configs['membership-service']['signingKeyPath'], '/etc/membrane/signing-key/signing.key');
      assert.equal(configs['federation-gateway']['signingKeyPath'], configs['membership-service']['signingKeyPath']);
    });
  });
}

describe('overlay embedded', () => {
  it('runs one membership service on SQLite in a PersistentVolumeClaim, replaced (not rolled) on update', () => {
    const { objects } = overlay('embedded');
    const d = deployment(objects, 'membership-service');
    const spec = tree(d['spec']);
    assert.equal(spec['replicas'], 1);
    assert.deepEqual(spec['strategy'], { type: 'Recreate' });
    const data = list(podSpecOf(d)['volumes']).find((v) => v['name'] === 'data');
    assert.deepEqual(data, { name: 'data', persistentVolumeClaim: { claimName: 'membership-data' } });
    const mount = list(container(d)['volumeMounts']).find((m) => m['name'] === 'data');
    assert.equal(mount?.['mountPath'], '/var/lib/membrane');
    assert.ok(objectNamed(objects, 'PersistentVolumeClaim', 'membership-data'));
    const config = renderedAppConfigs('embedded')['membership-service'];
    assert.deepEqual(config['database'], { engine: 'sqlite' });
    assert.equal(config['dataDir'], '/var/lib/membrane');
  });
});

describe('overlay scale-out', () => {
  it('runs three membership services on PostgreSQL, the URL from a Secret, with no volume claim', () => {
    const { objects } = overlay('scale-out');
    const d = deployment(objects, 'membership-service');
    assert.equal(tree(d['spec'])['replicas'], 3);
    assert.deepEqual(objectsOf(objects, 'PersistentVolumeClaim'), []);
    const urlEnv = list(container(d)['env']).find((e) => e['name'] === 'MEMBRANE_MEMBERSHIP_DATABASE__URL');
    assert.deepEqual(tree(urlEnv?.['valueFrom'])['secretKeyRef'], { name: 'membrane-postgres', key: 'url' });
    const database = tree(renderedAppConfigs('scale-out')['membership-service']['database']);
    assert.equal(database['engine'], 'postgres');
    assert.equal(database['url'], secretValue(objects, 'membrane-postgres', 'url'));
  });
});

describe('the signing key Secret', () => {
  it('is a placeholder in the base that the apps refuse, so a forgotten key never starts a server', () => {
    const file = join(scratch, 'placeholder.key');
    writeFileSync(file, secretValue(overlay('embedded').objects, 'membrane-signing-key', 'signing.key'));
    assert.throws(() => loadOrCreateSigningKey(file), ConfigError);
  });

  it('is replaced from an existing Synapse key file by an overlay, as docs/operations.md shows, and mounted under the same name', () => {
    const dir = join(scratch, 'my-overlay');
    mkdirSync(dir);
    // Seed from the Synapse key-file vector in libs/config's tests.
    writeFileSync(join(dir, 'homeserver.signing.key'), 'ed25519 a_test YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n');
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'resources:',
        `  - ${relative(dir, join(REPO_ROOT, 'deploy/k8s/overlays/embedded'))}`,
        'secretGenerator:',
        '  - name: membrane-signing-key',
        '    behavior: replace',
        '    files:',
        '      - signing.key=homeserver.signing.key',
        '',
      ].join('\n'),
    );
    const { status, text, stderr } = render(dir);
    assert.equal(status, 0, stderr);
    const objects = parseManifests(text);
    const secrets = objectsOf(objects, 'Secret').filter((s) => s.metadata.name.startsWith('membrane-signing-key'));
    assert.equal(secrets.length, 1);
    const secretName = (secrets[0] as K8sObject).metadata.name;
    for (const app of ['membership-service', 'federation-gateway']) {
      const volume = list(podSpecOf(deployment(objects, app))['volumes']).find((v) => v['name'] === 'signing-key');
      assert.equal(tree(volume?.['secret'])['secretName'], secretName, app);
    }
    const keyFile = join(dir, 'mounted.key');
    writeFileSync(keyFile, secretValue(objects, secretName, 'signing.key'));
    const { key } = loadOrCreateSigningKey(keyFile);
    assert.equal(key.keyId, 'ed25519:a_test');
    assert.equal(Buffer.from(key.publicKey).toString('base64').replace(/=+$/, ''), 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI');
  });
});

describe('the overlays shown in docs/operations.md', () => {
  it('"Your own overlay" renders and validates, with its namespace, server name, image, database URL and key', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8');
    const block = /```yaml\n(# my-membrane\/kustomization\.yaml\n[\s\S]*?)```/.exec(docs)?.[1];
    assert.ok(block, 'docs/operations.md lost its overlay example');
    const dir = join(scratch, 'my-membrane');
    mkdirSync(dir);
    const base = relative(dir, join(REPO_ROOT, 'deploy/k8s/overlays/scale-out'));
    const kustomization = block.replace(/\.\.\/membrane\/deploy\/k8s\/overlays\/scale-out.*/, base);
    assert.notEqual(kustomization, block);
    writeFileSync(join(dir, 'kustomization.yaml'), kustomization);
    writeFileSync(join(dir, 'cs-gateway.yaml'), readFileSync(join(REPO_ROOT, 'deploy/k8s/base/config/cs-gateway.yaml'), 'utf8').replace('http://synapse:8008', 'http://synapse.matrix:8008'));
    writeFileSync(join(dir, 'homeserver.signing.key'), 'ed25519 a_test YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n');
    const { status, text, stderr } = render(dir);
    assert.equal(status, 0, stderr);
    const file = join(dir, 'rendered.yaml');
    writeFileSync(file, text);
    const validated = validate(file, '1.37.0');
    assert.equal(validated.status, 0, validated.output);
    const objects = parseManifests(text);
    assert.deepEqual(checkStack(objects), []);
    assert.ok(objects.every((o) => tree(o.metadata)['namespace'] === 'matrix'));
    const service = container(deployment(objects, 'membership-service'));
    assert.equal(service['image'], 'registry.example.org/membrane:0.1.0');
    const env = containerEnv(objects, service);
    assert.equal(env['MEMBRANE_MEMBERSHIP_SERVER_NAME'], 'matrix.example.org');
    assert.equal(env['MEMBRANE_MEMBERSHIP_DATABASE__URL'], 'postgres://membrane:PASSWORD@postgres.db:5432/membrane');
    assert.match(secretValue(objects, 'membrane-signing-key', 'signing.key'), /^ed25519 a_test /);
    const csConfig = containerConfigFile(objects, deployment(objects, 'cs-gateway'), container(deployment(objects, 'cs-gateway')));
    assert.match(csConfig, /http:\/\/synapse\.matrix:8008/);
  });

  it('leaving the placeholder out ($patch: delete) keeps the mounts of a Secret created with kubectl', () => {
    const dir = join(scratch, 'out-of-band');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      [
        'resources:',
        `  - ${relative(dir, join(REPO_ROOT, 'deploy/k8s/overlays/embedded'))}`,
        'patches:',
        '  - patch: |-',
        '      apiVersion: v1',
        '      kind: Secret',
        '      metadata:',
        '        name: membrane-signing-key',
        '      $patch: delete',
        '',
      ].join('\n'),
    );
    const { status, text, stderr } = render(dir);
    assert.equal(status, 0, stderr);
    const objects = parseManifests(text);
    assert.equal(objectNamed(objects, 'Secret', 'membrane-signing-key'), undefined);
    for (const app of ['membership-service', 'federation-gateway']) {
      const volume = list(podSpecOf(deployment(objects, app))['volumes']).find((v) => v['name'] === 'signing-key');
      assert.equal(tree(volume?.['secret'])['secretName'], 'membrane-signing-key', app);
    }
  });
});

describe('checkStack', () => {
  it('finds a Service that selects no pods, a missing Secret, a writable root filesystem and a volume with two sources', () => {
    const objects = parseManifests(readFileSync(overlay('embedded').file, 'utf8'));
    const broken = objects.map((o) => structuredClone(o) as K8sObject);
    const service = objectNamed(broken, 'Service', 'cs-gateway') as K8sObject;
    tree(service['spec'])['selector'] = { 'app.kubernetes.io/name': 'cs-gatewy' };
    const gateway = objectNamed(broken, 'Deployment', 'federation-gateway') as K8sObject;
    const signing = list(podSpecOf(gateway)['volumes']).find((v) => v['name'] === 'signing-key');
    tree(signing?.['secret'])['secretName'] = 'nope';
    const data = list(podSpecOf(gateway)['volumes']).find((v) => v['name'] === 'data');
    if (data) data['persistentVolumeClaim'] = { claimName: 'membership-data' };
    tree(container(gateway)['securityContext'])['readOnlyRootFilesystem'] = false;
    const problems = checkStack(broken).join('\n');
    assert.match(problems, /Service cs-gateway: selects 0 Deployments/);
    assert.match(problems, /federation-gateway: volume signing-key names a missing Secret/);
    assert.match(problems, /federation-gateway: volume data has 2 sources/);
    assert.match(problems, /federation-gateway container federation-gateway: root filesystem is writable/);
  });

  it('sees a network policy that lets any pod in', () => {
    const objects = parseManifests(readFileSync(overlay('embedded').file, 'utf8')).map((o) => structuredClone(o) as K8sObject);
    const policy = objectNamed(objects, 'NetworkPolicy', 'membership-service') as K8sObject;
    assert.equal(ingressAllowedTo(objects, deployment(objects, 'membership-service'), 50051)?.open, false);
    const rule = list(tree(policy['spec'])['ingress'])[0] as Tree;
    (rule['from'] as Tree[]).push({ namespaceSelector: {} });
    assert.equal(ingressAllowedTo(objects, deployment(objects, 'membership-service'), 50051)?.open, true);
  });
});
