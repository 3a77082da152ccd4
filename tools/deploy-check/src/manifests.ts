// Checks across the rendered Kubernetes objects that a JSON-schema validator
// cannot make: selectors that find their pods, references that name objects
// that exist, the network policy's reach, and the hardening every pod must
// have. Pure functions over parsed YAML.
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly [key: string]: unknown;
}

type Tree = Record<string, unknown>;

const isTree = (value: unknown): value is Tree => typeof value === 'object' && value !== null && !Array.isArray(value);
const treeAt = (value: unknown, ...path: string[]): Tree => {
  let at: unknown = value;
  for (const key of path) at = isTree(at) ? at[key] : undefined;
  return isTree(at) ? at : {};
};
const listAt = (value: unknown, ...path: string[]): Tree[] => {
  const last = path.at(-1) ?? '';
  const list = treeAt(value, ...path.slice(0, -1))[last];
  return Array.isArray(list) ? list.filter(isTree) : [];
};
const stringMap = (value: Tree): Record<string, string> =>
  Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));

/** Every object of a multi-document YAML stream (empty documents skipped). */
export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]?.message ?? ''}`);
      return doc.toJS() as unknown;
    })
    .filter((obj): obj is K8sObject => isTree(obj) && typeof obj['kind'] === 'string');
}

export function objectsOf(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function objectNamed(objects: readonly K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

export function podSpecOf(deployment: K8sObject): Tree {
  return treeAt(deployment, 'spec', 'template', 'spec');
}

export function podLabelsOf(deployment: K8sObject): Record<string, string> {
  return stringMap(treeAt(deployment, 'spec', 'template', 'metadata', 'labels'));
}

export function containersOf(deployment: K8sObject): Tree[] {
  return listAt(podSpecOf(deployment), 'containers');
}

const selects = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Deployments whose pods a `matchLabels` (or plain Service) selector picks. */
export function deploymentsSelectedBy(objects: readonly K8sObject[], selector: Record<string, string>): K8sObject[] {
  return objectsOf(objects, 'Deployment').filter((d) => selects(selector, podLabelsOf(d)));
}

function checkPodHardening(deployment: K8sObject): string[] {
  const name = `Deployment ${deployment.metadata.name}`;
  const problems: string[] = [];
  const pod = podSpecOf(deployment);
  const podSecurity = treeAt(pod, 'securityContext');
  if (podSecurity['runAsNonRoot'] !== true) problems.push(`${name}: runAsNonRoot is not set`);
  if (podSecurity['runAsUser'] === 0) problems.push(`${name}: runs as uid 0`);
  if (pod['automountServiceAccountToken'] !== false) problems.push(`${name}: mounts a service account token it does not use`);
  const volumes = listAt(pod, 'volumes');
  for (const container of containersOf(deployment)) {
    const where = `${name} container ${String(container['name'])}`;
    const security = treeAt(container, 'securityContext');
    if (security['readOnlyRootFilesystem'] !== true) problems.push(`${where}: root filesystem is writable`);
    if (security['allowPrivilegeEscalation'] !== false) problems.push(`${where}: allows privilege escalation`);
    const dropped = treeAt(security, 'capabilities')['drop'];
    if (!Array.isArray(dropped) || !dropped.includes('ALL')) problems.push(`${where}: does not drop all capabilities`);
    const resources = treeAt(container, 'resources');
    for (const [kind, key] of [['requests', 'cpu'], ['requests', 'memory'], ['limits', 'memory']] as const) {
      if (treeAt(resources, kind)[key] === undefined) problems.push(`${where}: no ${kind}.${key}`);
    }
    for (const probe of ['livenessProbe', 'readinessProbe'] as const) {
      if (Object.keys(treeAt(container, probe)).length === 0) problems.push(`${where}: no ${probe}`);
    }
    const tmp = listAt(container, 'volumeMounts').find((m) => m['mountPath'] === '/tmp');
    const tmpVolume = volumes.find((v) => v['name'] === tmp?.['name']);
    if (tmpVolume === undefined || !isTree(tmpVolume['emptyDir'])) problems.push(`${where}: /tmp is not an emptyDir`);
  }
  return problems;
}

function checkReferences(objects: readonly K8sObject[], deployment: K8sObject): string[] {
  const name = `Deployment ${deployment.metadata.name}`;
  const problems: string[] = [];
  const pod = podSpecOf(deployment);
  const missing = (kind: string, ref: unknown): boolean => typeof ref !== 'string' || objectNamed(objects, kind, ref) === undefined;
  for (const volume of listAt(pod, 'volumes')) {
    const configMap = treeAt(volume, 'configMap');
    if (isTree(volume['configMap']) && missing('ConfigMap', configMap['name'])) problems.push(`${name}: volume ${String(volume['name'])} names a missing ConfigMap`);
    const secret = treeAt(volume, 'secret');
    if (isTree(volume['secret']) && missing('Secret', secret['secretName'])) problems.push(`${name}: volume ${String(volume['name'])} names a missing Secret`);
    const claim = treeAt(volume, 'persistentVolumeClaim');
    if (isTree(volume['persistentVolumeClaim']) && missing('PersistentVolumeClaim', claim['claimName'])) {
      problems.push(`${name}: volume ${String(volume['name'])} names a missing PersistentVolumeClaim`);
    }
    const sources = ['emptyDir', 'configMap', 'secret', 'persistentVolumeClaim'].filter((k) => volume[k] !== undefined && volume[k] !== null);
    if (sources.length !== 1) problems.push(`${name}: volume ${String(volume['name'])} has ${sources.length} sources (${sources.join(', ')})`);
  }
  for (const container of containersOf(deployment)) {
    for (const env of listAt(container, 'env')) {
      const from = treeAt(env, 'valueFrom');
      const cm = treeAt(from, 'configMapKeyRef');
      if (isTree(from['configMapKeyRef']) && missing('ConfigMap', cm['name'])) problems.push(`${name}: env ${String(env['name'])} names a missing ConfigMap`);
      const secret = treeAt(from, 'secretKeyRef');
      if (isTree(from['secretKeyRef']) && missing('Secret', secret['name'])) problems.push(`${name}: env ${String(env['name'])} names a missing Secret`);
    }
  }
  return problems;
}

function checkServices(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const service of objectsOf(objects, 'Service')) {
    const targets = deploymentsSelectedBy(objects, stringMap(treeAt(service, 'spec', 'selector')));
    if (targets.length !== 1) {
      problems.push(`Service ${service.metadata.name}: selects ${targets.length} Deployments`);
      continue;
    }
    const portNames = new Set(containersOf(targets[0] as K8sObject).flatMap((c) => listAt(c, 'ports').map((p) => p['name'])));
    for (const port of listAt(service, 'spec', 'ports')) {
      const target = port['targetPort'];
      if (typeof target === 'string' && !portNames.has(target)) problems.push(`Service ${service.metadata.name}: targetPort ${target} is no container port`);
    }
  }
  for (const pdb of objectsOf(objects, 'PodDisruptionBudget')) {
    if (deploymentsSelectedBy(objects, stringMap(treeAt(pdb, 'spec', 'selector', 'matchLabels'))).length !== 1) {
      problems.push(`PodDisruptionBudget ${pdb.metadata.name}: does not select exactly one Deployment`);
    }
  }
  for (const hpa of objectsOf(objects, 'HorizontalPodAutoscaler')) {
    const target = treeAt(hpa, 'spec', 'scaleTargetRef');
    if (target['kind'] !== 'Deployment' || typeof target['name'] !== 'string' || objectNamed(objects, 'Deployment', target['name']) === undefined) {
      problems.push(`HorizontalPodAutoscaler ${hpa.metadata.name}: scales a missing Deployment`);
    }
  }
  return problems;
}

/**
 * Which Deployments may open a connection to `target`'s pods, and on which
 * ports, under the NetworkPolicies that select those pods. `undefined` when
 * no policy selects them (everything may).
 */
/**
 * Who may reach `target`'s pods, merged over every policy that selects them.
 * With `port`, only rules that admit that port count (a rule without ports admits all).
 */
export function ingressAllowedTo(
  objects: readonly K8sObject[],
  target: K8sObject,
  port?: number,
): { from: Set<string>; ports: Set<number | string>; open: boolean } | undefined {
  const labels = podLabelsOf(target);
  const policies = objectsOf(objects, 'NetworkPolicy').filter((p) => {
    const selector = stringMap(treeAt(p, 'spec', 'podSelector', 'matchLabels'));
    return Object.keys(selector).length === 0 || selects(selector, labels);
  });
  if (policies.length === 0) return undefined;
  const from = new Set<string>();
  const ports = new Set<number | string>();
  let open = false;
  for (const policy of policies) {
    for (const rule of listAt(policy, 'spec', 'ingress')) {
      const rulePortsAll = listAt(rule, 'ports');
      if (port !== undefined && rulePortsAll.length > 0 && !rulePortsAll.some((p) => p['port'] === port)) continue;
      const peers = listAt(rule, 'from');
      if (peers.length === 0) open = true;
      for (const peer of peers) {
        if (peer['ipBlock'] !== undefined || peer['namespaceSelector'] !== undefined) open = true;
        for (const d of deploymentsSelectedBy(objects, stringMap(treeAt(peer, 'podSelector', 'matchLabels')))) from.add(d.metadata.name);
      }
      const rulePorts = listAt(rule, 'ports');
      if (rulePorts.length === 0) open = true;
      for (const port of rulePorts) ports.add(port['port'] as number | string);
    }
  }
  return { from, ports, open };
}

/** Problems across all rendered objects; empty when the stack holds together. */
export function checkStack(objects: readonly K8sObject[]): string[] {
  const deployments = objectsOf(objects, 'Deployment');
  return [
    ...deployments.flatMap(checkPodHardening),
    ...deployments.flatMap((d) => checkReferences(objects, d)),
    ...checkServices(objects),
  ];
}
