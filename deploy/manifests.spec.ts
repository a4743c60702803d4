// The Kubernetes manifests (deploy/base + deploy/overlays/*), rendered with kubectl kustomize and
// checked offline: Kubernetes schemas, unknown fields, cross-object consistency
// (tools/validate-manifests.js), each app's effective config through its real config schema,
// and what each overlay must contain.
import { loadConfig, type ConfigSchema } from '@apogee/runtime';
import { brokerConfigSchema, validateBrokerConfig, type BrokerConfig } from '../apps/broker/src/config';
import { haReplicatorConfigSchema } from '../apps/ha-replicator/src/config';
import { indexServiceConfigSchema } from '../apps/index-service/src/config';
import { nameserverConfigSchema, validateNameserverConfig, type NameserverConfig } from '../apps/nameserver/src/config';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const manifests = require('../tools/validate-manifests.js');

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered YAML */
type K8sObject = any;

interface AppDef {
  schema: ConfigSchema;
  validate?: (config: any) => void;
}

const APPS: Record<string, AppDef> = {
  nameserver: { schema: nameserverConfigSchema, validate: (c) => validateNameserverConfig(c as NameserverConfig) },
  broker: { schema: brokerConfigSchema, validate: (c) => validateBrokerConfig(c as BrokerConfig) },
  'index-service': { schema: indexServiceConfigSchema },
  'ha-replicator': { schema: haReplicatorConfigSchema },
};

interface PodConfig {
  workload: K8sObject;
  container: K8sObject;
  pod: { name: string; ordinal: number; namespace: string; ip: string };
  app: string;
  script: string;
  config: Record<string, any>;
}

/** Each app pod's effective config: defaults < ConfigMap file < env < flags, as the app loads it. */
function podConfigs(objects: K8sObject[], namespace: string): PodConfig[] {
  const result: PodConfig[] = [];
  for (const workload of manifests.workloads(objects)) {
    for (const container of workload.spec.template.spec.containers) {
      const app: string | undefined = manifests.appOf(container);
      if (!app) continue;
      for (const pod of manifests.podsOf(workload, namespace)) {
        const file = manifests.configFileOf(objects, workload, container, app);
        if (file.problem) throw new Error(file.problem);
        const { script, argv } = manifests.startArgs(container, pod);
        let config: Record<string, any>;
        try {
          config = loadConfig(APPS[app].schema, {
            app,
            argv,
            env: manifests.podEnv(container, pod),
            readFile: (p) => {
              if (p !== file.path) throw new Error(`no such file in the pod: ${p}`);
              return file.text;
            },
          });
          APPS[app].validate?.(config);
        } catch (err) {
          throw new Error(`${pod.name} (${app}): ${(err as Error).message}`, { cause: err });
        }
        result.push({ workload, container, pod, app, script, config });
      }
    }
  }
  return result;
}

const renderer = manifests.findRenderer();
const overlays: string[] = manifests.listOverlays();

test('kubectl kustomize (or kustomize) is there to render the overlays', () => {
  if (!renderer) throw new Error(`no kubectl or kustomize on PATH: ${manifests.INSTALL_HINT}`);
  expect(overlays).toEqual(['dev', 'prod']);
});

describe.each(overlays)('deploy/overlays/%s', (overlay) => {
  let objects: K8sObject[] = [];
  let namespace = '';
  let pods: PodConfig[] = [];
  const byName = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const ofApp = (kind: string, app: string) =>
    objects.filter((o) => o.kind === kind && o.spec?.template?.metadata?.labels?.['app.kubernetes.io/name'] === app);

  beforeAll(() => {
    if (!renderer) return;
    const rendered = manifests.renderOverlay(overlay, renderer);
    objects = rendered.objects;
    namespace = rendered.namespace;
    expect(rendered.warnings).toEqual([]);
  }, 60_000);

  const needsRender = () => {
    if (!renderer) throw new Error(`cannot render: ${manifests.INSTALL_HINT}`);
  };

  test('every object validates against its Kubernetes schema', () => {
    needsRender();
    expect(objects.length).toBeGreaterThan(10);
    expect(manifests.schemaProblems(objects)).toEqual([]);
  });

  test('no object has a field unknown to Kubernetes', () => {
    needsRender();
    expect(manifests.unknownFieldProblems(objects)).toEqual([]);
  }, 60_000);

  test('objects agree: namespaces, selectors, headless services, probes, ports, PDBs, broker addresses', () => {
    needsRender();
    expect(manifests.consistencyProblems(objects, namespace)).toEqual([]);
  });

  test('every app pod starts its app with a config its schema accepts', () => {
    needsRender();
    pods = podConfigs(objects, namespace);
    expect(new Set(pods.map((p) => p.app))).toEqual(new Set(Object.keys(APPS)));
    for (const p of pods) {
      expect(p.script).toBe(`/app/dist/apps/${p.app}/main.js`);
      const grpc = p.container.ports.find((port: any) => port.name === 'grpc').containerPort;
      const metrics = p.container.ports.find((port: any) => port.name === 'metrics').containerPort;
      expect([p.pod.name, p.config.grpcPort, p.config.metricsPort]).toEqual([p.pod.name, grpc, metrics]);
      expect([p.pod.name, p.container.livenessProbe.grpc.port, p.container.readinessProbe.grpc.port]).toEqual([p.pod.name, grpc, grpc]);
      expect(p.config.grpcHost).toBe('0.0.0.0');
      // The stop of open calls must fit in the kill deadline with room for unregistering and flushing.
      expect(p.workload.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(p.config.shutdownGraceMs + 10_000);
      if ('dataDir' in p.config) {
        const mount = p.container.volumeMounts.find((m: any) => String(p.config.dataDir).startsWith(`${m.mountPath}/`));
        expect(mount).toBeDefined();
      }
    }
  });

  test('each broker pod advertises its headless-service DNS name, each ha-replicator pod its pod IP; brokers list the ha-replicator Service', () => {
    needsRender();
    const brokers = podConfigs(objects, namespace).filter((p) => p.app === 'broker');
    expect(brokers.length).toBeGreaterThan(0);
    for (const b of brokers) {
      const sts = b.workload;
      const service = byName('Service', sts.spec.serviceName);
      expect(service.spec.clusterIP).toBe('None');
      const dns = (ordinal: number) => `${sts.metadata.name}-${ordinal}.${service.metadata.name}.${namespace}.svc.cluster.local:8081`;
      expect(b.config).toMatchObject({ brokerName: sts.metadata.name, brokerId: b.pod.ordinal, advertisedAddress: dns(b.pod.ordinal) });
      // The ha-replicators assign the roles; only without them is ordinal 0 the fixed master.
      expect(b.config.masterAddress).toBe(b.pod.ordinal === 0 || b.config.haReplicators.length > 0 ? '' : dns(0));
      // One address in front of all ha-replicators; a non-acting one redirects to the acting one.
      expect(b.config.haReplicators).toEqual([`ha-replicator.${namespace}.svc.cluster.local:9878`]);
      expect(b.config.dataDir).toBe('/var/lib/apogee/broker');
    }
    // The Service `ha-replicator` is a ClusterIP Service selecting (only) the Deployment's pods on gRPC.
    const haService = byName('Service', 'ha-replicator');
    const haDeployment = byName('Deployment', 'ha-replicator');
    expect(haService.spec.clusterIP).not.toBe('None');
    expect(haService.spec.ports).toEqual([expect.objectContaining({ port: 9878, targetPort: 'grpc' })]);
    expect(manifests.workloads(objects).filter((w: K8sObject) =>
      Object.entries(haService.spec.selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v),
    )).toEqual([haDeployment]);
    // Each replica advertises (and campaigns in etcd as) its own pod IP, where brokers reach it when it acts.
    const has = podConfigs(objects, namespace).filter((p) => p.app === 'ha-replicator');
    expect(has.length).toBe(haDeployment.spec.replicas);
    for (const h of has) {
      expect(h.workload).toBe(haDeployment);
      expect(h.config.advertisedAddress).toBe(`${h.pod.ip}:9878`);
    }
    expect(new Set(has.map((h) => h.config.advertisedAddress)).size).toBe(has.length);
    // The clients' access point reaches the brokers' gRPC port.
    const access = byName('Service', 'apogee');
    expect(access.spec.clusterIP).not.toBe('None');
    expect(access.spec.ports).toEqual([expect.objectContaining({ port: 8081, targetPort: 'grpc' })]);
  });

  test('the consistency checks catch ha-replicator addresses that brokers could not use', () => {
    needsRender();
    const mutate = (change: (objs: K8sObject[]) => void): string[] => {
      const copy: K8sObject[] = JSON.parse(JSON.stringify(objects));
      change(copy);
      return manifests.consistencyProblems(copy, namespace);
    };
    const find = (objs: K8sObject[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
    const setEnv = (objs: K8sObject[], kind: string, name: string, env: string, value: string) => {
      for (const e of find(objs, kind, name).spec.template.spec.containers[0].env) if (e.name === env) e.value = value;
    };
    // Per-pod names of a Deployment resolve to nothing.
    expect(mutate((o) => setEnv(o, 'StatefulSet', 'broker-a', 'APOGEE_BROKER_HA_REPLICATORS', `ha-replicator-0.ha-replicator.${namespace}.svc.cluster.local:9878`)).join('\n')).toMatch(/haReplicators .* are neither/);
    // A headless Service is no single address in front of them.
    expect(mutate((o) => (find(o, 'Service', 'ha-replicator').spec.clusterIP = 'None')).join('\n')).toMatch(/haReplicators/);
    // A Service that selects other pods too.
    expect(mutate((o) => delete find(o, 'Service', 'ha-replicator').spec.selector['app.kubernetes.io/name']).join('\n')).toMatch(/also selects/);
    // Replicas advertising one shared address (e.g. the Service) could not be told apart.
    expect(mutate((o) => setEnv(o, 'Deployment', 'ha-replicator', 'APOGEE_HA_REPLICATOR_ADVERTISED_ADDRESS', `ha-replicator.${namespace}.svc.cluster.local:9878`)).join('\n')).toMatch(/is not its pod IP/);
    // No advertisedAddress: brokers would be redirected to loopback.
    expect(mutate((o) => {
      const c = find(o, 'Deployment', 'ha-replicator').spec.template.spec.containers[0];
      c.env = c.env.filter((e: any) => e.name !== 'APOGEE_HA_REPLICATOR_ADVERTISED_ADDRESS');
    }).join('\n')).toMatch(/sets no advertisedAddress/);
  });

  test('all app containers run the same image', () => {
    needsRender();
    const images = new Set(
      manifests
        .workloads(objects)
        .flatMap((w: K8sObject) => w.spec.template.spec.containers)
        .filter((c: K8sObject) => manifests.appOf(c))
        .map((c: K8sObject) => c.image),
    );
    expect(images.size).toBe(1);
  });

  if (overlay === 'dev') {
    test('dev: one of each app, no etcd', () => {
      needsRender();
      expect(namespace).toBe('apogee-dev');
      expect(byName('StatefulSet', 'nameserver').spec.replicas).toBe(1);
      expect(ofApp('StatefulSet', 'broker').map((s) => [s.metadata.name, s.spec.replicas])).toEqual([['broker-a', 1]]);
      expect(byName('StatefulSet', 'index-service').spec.replicas).toBe(1);
      expect(byName('Deployment', 'ha-replicator').spec.replicas).toBe(1);
      // A single ha-replicator without etcd always acts: never two during an update.
      expect(byName('Deployment', 'ha-replicator').spec.strategy.type).toBe('Recreate');
      expect(ofApp('StatefulSet', 'ha-replicator')).toEqual([]);
      expect(objects.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name).sort()).toEqual(['broker-a', 'index-service', 'nameserver']);
      expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual(['ha-replicator']);
      expect(ofApp('StatefulSet', 'etcd')).toEqual([]);
      const ha = podConfigs(objects, namespace).find((p) => p.app === 'ha-replicator');
      expect(ha?.config.etcdEndpoints).toEqual([]);
    });
  }

  if (overlay === 'prod') {
    test('prod: 2 nameservers, 2 SYNC broker groups of master + slave under ha control, index-service, 2 ha-replicators on a 3-member etcd', () => {
      needsRender();
      expect(namespace).toBe('apogee');
      expect(byName('StatefulSet', 'nameserver').spec.replicas).toBe(2);
      expect(ofApp('StatefulSet', 'broker').map((s) => [s.metadata.name, s.spec.replicas])).toEqual([
        ['broker-a', 2],
        ['broker-b', 2],
      ]);
      expect(byName('StatefulSet', 'index-service').spec.replicas).toBe(1);
      expect(byName('Deployment', 'ha-replicator').spec.replicas).toBe(2);
      expect(ofApp('StatefulSet', 'ha-replicator')).toEqual([]);
      expect(byName('StatefulSet', 'etcd').spec.replicas).toBe(3);
      expect(objects.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name).sort()).toEqual([
        'broker-a',
        'broker-b',
        'etcd',
        'index-service',
        'nameserver',
      ]);
      expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual(['ha-replicator']);
      // One of the two may be disrupted at a time; the other keeps (or takes over) acting.
      expect(byName('PodDisruptionBudget', 'ha-replicator').spec).toMatchObject({ minAvailable: 1 });
      expect(byName('PodDisruptionBudget', 'ha-replicator').spec.maxUnavailable).toBeUndefined();
      const all = podConfigs(objects, namespace);
      for (const b of all.filter((p) => p.app === 'broker')) {
        expect([b.pod.name, b.config.replicationMode, b.config.haReplicators.length, b.config.clusterName]).toEqual([b.pod.name, 'SYNC', 1, 'DefaultCluster']);
      }
      for (const h of all.filter((p) => p.app === 'ha-replicator')) {
        expect(h.config.etcdEndpoints).toEqual([0, 1, 2].map((i) => `http://etcd-${i}.etcd.apogee.svc.cluster.local:2379`));
      }
    });

    test('prod: broker-b is broker-a for another group (the two StatefulSets do not drift apart)', () => {
      needsRender();
      const normalize = (sts: K8sObject) => {
        const copy = JSON.parse(JSON.stringify(sts).replaceAll(sts.metadata.name, 'GROUP'));
        for (const c of copy.spec.template.spec.containers) c.env.sort((x: any, y: any) => x.name.localeCompare(y.name));
        return copy;
      };
      expect(normalize(byName('StatefulSet', 'broker-b'))).toEqual(normalize(byName('StatefulSet', 'broker-a')));
      const pdb = (name: string) => JSON.parse(JSON.stringify(byName('PodDisruptionBudget', name)).replaceAll(name, 'GROUP'));
      expect(pdb('broker-b')).toEqual(pdb('broker-a'));
    });
  }
});
