#!/usr/bin/env node
// Renders every kustomize overlay under deploy/overlays and checks every object offline:
//   node tools/validate-manifests.js [overlay...]        (default: all overlays)
// 1. the Kubernetes schemas (kubernetes-models' per-kind validate()),
// 2. no unknown fields (the API server's strict field validation; checked with TypeScript's
//    excess-property check against kubernetes-models' types),
// 3. consistency: namespaces, selectors of Services, PDBs and workloads, StatefulSet service
//    names, ConfigMap references, gRPC probes on the gRPC port, resources, each broker
//    pod's advertised address (the container's start script is run with /bin/sh), each
//    ha-replicator pod's advertised address (its pod IP) and the brokers' haReplicators (the
//    ha-replicator Service).
// Exit 0 when all overlays pass, 1 with one line per problem otherwise, 2 when no renderer.
//
// Rendering needs `kubectl kustomize` (any kubectl; the overlays also build with the old
// kustomize v2.0.3 of Debian's kubernetes-client) or a standalone `kustomize build`.
// APOGEE_KUSTOMIZE="/path/to/kubectl kustomize" picks one explicitly.
// deploy/manifests.spec.ts runs the same checks under `npm test`, plus the apps' config schemas.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const OVERLAYS_DIR = path.join(ROOT, 'deploy', 'overlays');
const CLUSTER_DOMAIN = 'cluster.local';
const INSTALL_HINT =
  'install kubectl (Debian: `apt-get install -y kubernetes-client`) or kustomize, ' +
  'or set APOGEE_KUSTOMIZE="/path/to/kubectl kustomize"';

/** The apps in the image: container name = app name; gRPC port env APOGEE_<APP>_GRPC_PORT. */
const APPS = ['nameserver', 'broker', 'index-service', 'ha-replicator'];
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'PersistentVolume']);
/** kustomize v5 warns about the fields kept for kustomize v2.0.3; those lines are expected. */
const EXPECTED_STDERR = /^# Warning: '(bases|patchesStrategicMerge)' is deprecated\..*$/;

// ---------------------------------------------------------------------------------- render

/** Which command renders an overlay: { cmd, args, version } or undefined. */
function findRenderer(env = process.env) {
  if (env.APOGEE_KUSTOMIZE) {
    const [cmd, ...args] = env.APOGEE_KUSTOMIZE.trim().split(/\s+/);
    return { cmd, args, version: versionOf(cmd, args[0] === 'kustomize' ? ['version', '--client'] : ['version']) ?? '?' };
  }
  const kubectl = versionOf('kubectl', ['version', '--client']);
  if (kubectl !== undefined) return { cmd: 'kubectl', args: ['kustomize'], version: kubectl };
  const kustomize = versionOf('kustomize', ['version']);
  if (kustomize !== undefined) return { cmd: 'kustomize', args: ['build'], version: kustomize };
  return undefined;
}

function versionOf(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.trim().split('\n').join('; ');
}

function listOverlays() {
  return fs
    .readdirSync(OVERLAYS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(OVERLAYS_DIR, d.name, 'kustomization.yaml')))
    .map((d) => d.name)
    .sort();
}

/** nx's own dependency `yaml` (nx is pinned in devDependencies), so no extra package. */
function loadYaml() {
  const nxDir = path.dirname(require.resolve('nx/package.json', { paths: [ROOT] }));
  return require(require.resolve('yaml', { paths: [nxDir] }));
}

/** Renders deploy/overlays/<name>: { objects, namespace, warnings }; throws with kustomize's message. */
function renderOverlay(name, renderer = findRenderer()) {
  if (!renderer) throw new Error(`cannot render deploy/overlays/${name}: no kubectl or kustomize found; ${INSTALL_HINT}`);
  const dir = path.join(OVERLAYS_DIR, name);
  const r = spawnSync(renderer.cmd, [...renderer.args, dir], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  const stderr = (r.stderr ?? '').split('\n').filter((l) => l.trim() !== '');
  if (r.error || r.status !== 0) {
    throw new Error(
      `${renderer.cmd} ${renderer.args.join(' ')} deploy/overlays/${name} failed` +
        `${r.error ? `: ${r.error.message}` : ` (exit ${r.status})`}\n${stderr.join('\n')}`,
    );
  }
  const YAML = loadYaml();
  const objects = [];
  for (const doc of YAML.parseAllDocuments(r.stdout)) {
    if (doc.errors.length > 0) throw new Error(`deploy/overlays/${name}: rendered YAML does not parse: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  const kustomization = YAML.parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
  return { objects, namespace: kustomization.namespace, warnings: stderr.filter((l) => !EXPECTED_STDERR.test(l)) };
}

function label(obj) {
  return `${obj.kind}/${obj.metadata?.name ?? '?'}`;
}

// --------------------------------------------------------------------------------- schemas

function modelModule(obj) {
  return `kubernetes-models/${obj.apiVersion}/${obj.kind}`;
}

/** Kubernetes schema violations of each object (kubernetes-models). */
function schemaProblems(objects) {
  const problems = [];
  for (const obj of objects) {
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
      problems.push(`${label(obj)}: apiVersion and kind are required`);
      continue;
    }
    let Model;
    try {
      Model = require(modelModule(obj))[obj.kind];
    } catch {
      Model = undefined;
    }
    if (typeof Model !== 'function') {
      problems.push(`${label(obj)}: no Kubernetes schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (err) {
      problems.push(`${label(obj)}: ${err.message}`);
    }
  }
  return problems;
}

/**
 * Fields the API server would reject as unknown (kubectl applies with strict field validation):
 * each object is type-checked as an object literal of its kubernetes-models interface, whose
 * excess-property check names every field not in the schema.
 */
function unknownFieldProblems(objects) {
  const ts = require('typescript');
  const fileName = path.join(ROOT, 'tmp', '__manifests_check__.ts');
  const lines = [];
  const owners = []; // line index -> object label
  objects.forEach((obj, i) => {
    const type = `I${obj.kind}`;
    lines.push(`import type { ${type} as T${i} } from '${modelModule(obj)}';`);
    owners.push(label(obj));
  });
  objects.forEach((obj, i) => {
    const body = JSON.stringify(obj, null, 2).split('\n');
    lines.push(`export const o${i}: T${i} = ${body[0]}`);
    owners.push(label(obj));
    for (const l of body.slice(1)) {
      lines.push(l);
      owners.push(label(obj));
    }
    lines[lines.length - 1] += ';';
  });
  const source = lines.join('\n');
  const options = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) =>
    path.resolve(f) === fileName ? ts.createSourceFile(f, source, lang, true) : getSourceFile(f, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => path.resolve(f) === fileName || fileExists(f);
  host.readFile = ((read) => (f) => (path.resolve(f) === fileName ? source : read(f)))(host.readFile.bind(host));
  const program = ts.createProgram([fileName], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program, program.getSourceFile(fileName));
  return diagnostics.map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (!d.file || d.start === undefined) return `manifest type check: ${text}`;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${owners[line] ?? '?'}: ${text} (at \`${lines[line].trim()}\`)`;
  });
}

// ----------------------------------------------------------------------------- consistency

function matches(selector, labels) {
  if (!selector) return false;
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

function workloads(objects) {
  return objects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment');
}

function podLabels(workload) {
  return workload.spec?.template?.metadata?.labels ?? {};
}

function findObject(objects, kind, name) {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}

/** The app a container runs: its name when it is one of APPS and the image is apogee. */
function appOf(container) {
  return APPS.includes(container.name) && /(^|\/)apogee(:|@|$)/.test(container.image ?? '') ? container.name : undefined;
}

function envName(app, field) {
  const snake = (s) => s.replace(/[A-Z]/g, (c) => `_${c}`).replace(/-/g, '_').toUpperCase();
  return `APOGEE_${snake(app)}_${snake(field)}`;
}

function plainEnv(container) {
  return Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
}

/** The container's environment as the kubelet gives it to one pod (fieldRefs and $(VAR) resolved). */
function podEnv(container, pod) {
  const env = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => (v in env ? env[v] : m));
    } else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') {
      env[e.name] = pod.name;
    } else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') {
      env[e.name] = pod.namespace;
    } else if (e.valueFrom?.fieldRef?.fieldPath === 'status.podIP') {
      env[e.name] = pod.ip;
    }
  }
  return env;
}

/**
 * Runs the container's command for one pod with a stand-in `node` that prints its arguments:
 * returns { script, argv } where script is the JS file and argv the flags after it.
 */
function startArgs(container, pod) {
  const fake = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'apogee-fake-node-'));
  try {
    fs.writeFileSync(path.join(fake, 'node'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n', { mode: 0o755 });
    const [cmd, ...args] = [...(container.command ?? []), ...(container.args ?? [])];
    const r = spawnSync(cmd === 'node' ? path.join(fake, 'node') : cmd, args, {
      encoding: 'utf8',
      env: { ...podEnv(container, pod), PATH: `${fake}:/usr/bin:/bin` },
      timeout: 10_000,
    });
    if (r.error || r.status !== 0) {
      throw new Error(`start command of ${pod.name} failed: ${r.error?.message ?? `exit ${r.status}`} ${r.stderr ?? ''}`.trim());
    }
    const [script, ...argv] = r.stdout.split('\0').slice(0, -1);
    return { script, argv };
  } finally {
    fs.rmSync(fake, { recursive: true, force: true });
  }
}

/** --flag value pairs -> { flag: value } */
function flagsOf(argv) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf('=');
    if (eq !== -1) flags[argv[i].slice(2, eq)] = argv[i].slice(eq + 1);
    else flags[argv[i].slice(2)] = argv[++i];
  }
  return flags;
}

/**
 * The pods a workload makes: StatefulSet pods by name; Deployment pods get a stand-in name.
 * Each gets a stand-in pod IP (status.podIP), distinct across workloads.
 */
let nextPodIp = 0;
const podIps = new WeakMap();
function podsOf(workload, namespace) {
  const replicas = workload.spec?.replicas ?? 1;
  if (!podIps.has(workload)) podIps.set(workload, []);
  const ips = podIps.get(workload);
  while (ips.length < replicas) {
    const n = nextPodIp++;
    ips.push(`10.244.${Math.floor(n / 250)}.${(n % 250) + 2}`);
  }
  return Array.from({ length: replicas }, (_, i) => ({
    name: workload.kind === 'StatefulSet' ? `${workload.metadata.name}-${i}` : `${workload.metadata.name}-5d8f7c9b4-x${i}`,
    ordinal: i,
    namespace,
    ip: ips[i],
  }));
}

/** The JSON config file an app container reads (APOGEE_<APP>_CONFIG), from its mounted ConfigMap. */
function configFileOf(objects, workload, container, app) {
  const file = plainEnv(container)[envName(app, 'config')];
  if (!file) return { problem: `${label(workload)}: container ${container.name} sets no ${envName(app, 'config')}` };
  const mount = (container.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath}/`));
  const volume = mount && (workload.spec.template.spec.volumes ?? []).find((v) => v.name === mount.name);
  const cm = volume?.configMap && findObject(objects, 'ConfigMap', volume.configMap.name);
  const key = mount && file.slice(mount.mountPath.length + 1);
  if (!cm || !(key in (cm.data ?? {}))) {
    return { problem: `${label(workload)}: config file ${file} is not a key of a mounted ConfigMap` };
  }
  try {
    return { path: file, text: cm.data[key], json: JSON.parse(cm.data[key]) };
  } catch (err) {
    return { problem: `${label(workload)}: ConfigMap ${cm.metadata.name} key ${key} is not JSON: ${err.message}` };
  }
}

/** Host names a StatefulSet gives its pods through its headless Service. */
function podDnsName(sts, ordinal, namespace) {
  return `${sts.metadata.name}-${ordinal}.${sts.spec.serviceName}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** Every host:port that nameserver / etcd clients may list: those of the pods that exist. */
function existingPodAddresses(objects, namespace, appName, port) {
  const sts = workloads(objects).find((w) => w.kind === 'StatefulSet' && podLabels(w)['app.kubernetes.io/name'] === appName);
  if (!sts) return [];
  return podsOf(sts, namespace).map((p) => `${podDnsName(sts, p.ordinal, namespace)}:${port}`);
}

/**
 * Problems with a broker's haReplicators: either the one address of a ClusterIP Service
 * <service>.<namespace>.svc.<domain>:<port> that selects the ha-replicator pods on their grpc
 * port (a non-acting one redirects the broker to the acting one), or, with an ha-replicator
 * StatefulSet, every one of its pods by DNS name.
 */
function haReplicatorsProblem(objects, namespace, listed) {
  const haWorkloads = workloads(objects).filter((w) =>
    (w.spec.template.spec.containers ?? []).some((c) => appOf(c) === 'ha-replicator'),
  );
  if (haWorkloads.length === 0) return `haReplicators ${JSON.stringify(listed)} but the overlay runs no ha-replicator`;
  if (listed.length === 1) {
    const m = new RegExp(`^([a-z0-9-]+)\\.${namespace}\\.svc\\.${CLUSTER_DOMAIN.replace(/\./g, '\\.')}:(\\d+)$`).exec(listed[0]);
    const svc = m && findObject(objects, 'Service', m[1]);
    if (svc && svc.spec.clusterIP !== 'None') {
      const port = (svc.spec.ports ?? []).find((p) => p.port === Number(m[2]));
      if (!port) return `haReplicators ${listed[0]}: Service ${svc.metadata.name} has no port ${m[2]}`;
      for (const w of haWorkloads) {
        if (!matches(svc.spec.selector, podLabels(w))) return `haReplicators ${listed[0]}: Service ${svc.metadata.name} does not select the pods of ${label(w)}`;
        const c = w.spec.template.spec.containers.find((x) => appOf(x) === 'ha-replicator');
        const grpc = (c.ports ?? []).find((p) => p.name === 'grpc');
        if (port.targetPort !== 'grpc' && port.targetPort !== grpc?.containerPort) {
          return `haReplicators ${listed[0]}: Service port ${port.port} does not target the grpc port of ${label(w)}`;
        }
      }
      const others = workloads(objects).filter((w) => !haWorkloads.includes(w) && matches(svc.spec.selector, podLabels(w)));
      if (others.length > 0) return `haReplicators ${listed[0]}: Service ${svc.metadata.name} also selects ${others.map(label).join(', ')}`;
      return undefined;
    }
  }
  const pods = existingPodAddresses(objects, namespace, 'ha-replicator', 9878);
  if (pods.length > 0 && listed.length === pods.length && listed.every((a) => pods.includes(a))) return undefined;
  return `haReplicators ${JSON.stringify(listed)} are neither a ClusterIP Service in front of the ha-replicators nor every ha-replicator pod`;
}

/** Everything that must agree across objects; one line per problem. */
function consistencyProblems(objects, namespace) {
  const problems = [];
  const add = (p) => problems.push(p);
  const names = new Set();
  for (const obj of objects) {
    const key = `${obj.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
    if (names.has(key)) add(`${label(obj)}: defined twice`);
    names.add(key);
    if (CLUSTER_SCOPED.has(obj.kind)) continue;
    if (obj.metadata?.namespace !== namespace) add(`${label(obj)}: namespace ${obj.metadata?.namespace} is not the overlay's ${namespace}`);
  }
  if (!findObject(objects, 'Namespace', namespace)) add(`Namespace ${namespace} is not part of the overlay`);

  const ws = workloads(objects);
  for (const w of ws) {
    const spec = w.spec?.template?.spec ?? {};
    if (!matches(w.spec?.selector?.matchLabels, podLabels(w))) add(`${label(w)}: selector does not match its pod template labels`);
    for (const other of ws) {
      if (other !== w && matches(w.spec?.selector?.matchLabels, podLabels(other))) {
        add(`${label(w)}: selector also matches the pods of ${label(other)}`);
      }
    }
    if (w.kind === 'StatefulSet') {
      const svc = findObject(objects, 'Service', w.spec.serviceName);
      if (!svc) add(`${label(w)}: serviceName ${w.spec.serviceName} is not a Service of the overlay`);
      else if (svc.spec.clusterIP !== 'None') add(`${label(w)}: Service ${svc.metadata.name} is not headless (clusterIP: None)`);
      else if (!matches(svc.spec.selector, podLabels(w))) add(`${label(w)}: headless Service ${svc.metadata.name} does not select its pods`);
    }
    if (!(spec.terminationGracePeriodSeconds > 0)) add(`${label(w)}: terminationGracePeriodSeconds is not set`);
    if (spec.securityContext?.runAsNonRoot !== true) add(`${label(w)}: pods do not set runAsNonRoot`);
    for (const v of spec.volumes ?? []) {
      if (v.configMap && !findObject(objects, 'ConfigMap', v.configMap.name)) {
        add(`${label(w)}: volume ${v.name} mounts ConfigMap ${v.configMap.name}, which the overlay does not define`);
      }
    }
    const claims = new Set((w.spec.volumeClaimTemplates ?? []).map((c) => c.metadata.name));
    const volumes = new Set([...(spec.volumes ?? []).map((v) => v.name), ...claims]);
    for (const c of spec.containers ?? []) {
      for (const m of c.volumeMounts ?? []) {
        if (!volumes.has(m.name)) add(`${label(w)}: container ${c.name} mounts ${m.name}, which is no volume of the pod`);
      }
      for (const kind of ['requests', 'limits']) {
        for (const r of ['cpu', 'memory']) {
          if (c.resources?.[kind]?.[r] === undefined) add(`${label(w)}: container ${c.name} has no ${kind}.${r}`);
        }
      }
      if (!c.readinessProbe || !c.livenessProbe) add(`${label(w)}: container ${c.name} lacks a readiness or liveness probe`);
      const app = appOf(c);
      if (!app) continue;
      const grpcPort = (c.ports ?? []).find((p) => p.name === 'grpc')?.containerPort;
      if (grpcPort === undefined) add(`${label(w)}: container ${c.name} has no port named grpc`);
      const env = plainEnv(c);
      if (Number(env[envName(app, 'grpcPort')]) !== grpcPort) {
        add(`${label(w)}: ${envName(app, 'grpcPort')}=${env[envName(app, 'grpcPort')]} is not the grpc containerPort ${grpcPort}`);
      }
      const metricsPort = (c.ports ?? []).find((p) => p.name === 'metrics')?.containerPort;
      if (Number(env[envName(app, 'metricsPort')]) !== metricsPort) add(`${label(w)}: ${envName(app, 'metricsPort')} is not the metrics containerPort`);
      if (w.spec.template.metadata?.annotations?.['prometheus.io/port'] !== String(metricsPort)) {
        add(`${label(w)}: annotation prometheus.io/port is not the metrics port ${metricsPort}`);
      }
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        if (!c[probe]) continue;
        if (c[probe].grpc?.port !== grpcPort) add(`${label(w)}: ${probe} of ${c.name} is not a grpc probe on port ${grpcPort}`);
      }
      const dataDir = env[envName(app, 'dataDir')];
      if (['broker', 'index-service'].includes(app)) {
        const mount = (c.volumeMounts ?? []).find((m) => dataDir?.startsWith(`${m.mountPath}/`));
        if (w.kind !== 'StatefulSet' || !mount || !claims.has(mount.name)) {
          add(`${label(w)}: ${app} dataDir ${dataDir} is not on a persistent volume (volumeClaimTemplates)`);
        }
      }
      const config = configFileOf(objects, w, c, app);
      if (config.problem) {
        add(config.problem);
        continue;
      }
      const graceMs = config.json.shutdownGraceMs ?? 5_000;
      if (spec.terminationGracePeriodSeconds * 1000 < graceMs + 10_000) {
        add(`${label(w)}: terminationGracePeriodSeconds leaves under 10 s after shutdownGraceMs ${graceMs} for unregistering and flushing`);
      }
      const nameservers = existingPodAddresses(objects, namespace, 'nameserver', 9876);
      if (config.json.nameservers !== undefined && app !== 'nameserver') {
        const listed = config.json.nameservers;
        if (listed.length === 0 || listed.some((a) => !nameservers.includes(a)) || listed.length !== nameservers.length) {
          add(`${label(w)}: ${config.path} nameservers ${JSON.stringify(listed)} are not the nameserver pods ${JSON.stringify(nameservers)}`);
        }
      }
      if (app === 'ha-replicator') {
        const etcd = existingPodAddresses(objects, namespace, 'etcd', 2379).map((a) => `http://${a}`);
        const listed = config.json.etcdEndpoints ?? [];
        if (listed.some((a) => !etcd.includes(a))) add(`${label(w)}: etcdEndpoints ${JSON.stringify(listed)} are not etcd pods of the overlay`);
        if ((w.spec.replicas ?? 1) > 1 && listed.length === 0) add(`${label(w)}: ${w.spec.replicas} ha-replicators need etcdEndpoints to elect one`);
        if (w.kind === 'Deployment' && listed.length === 0 && w.spec.strategy?.type !== 'Recreate') {
          add(`${label(w)}: an ha-replicator without etcd always acts; a rolling update would run two at once (strategy Recreate)`);
        }
        // Brokers are redirected to the acting one's advertisedAddress: each pod's own, reachable address.
        if (config.json.advertisedAddress === undefined && podEnv(c, podsOf(w, namespace)[0])[envName(app, 'advertisedAddress')] === undefined) {
          add(`${label(w)}: ha-replicator sets no advertisedAddress (brokers would be redirected to loopback)`);
        }
      }
      for (const pod of podsOf(w, namespace)) {
        const advertised = podEnv(c, pod)[envName(app, 'advertisedAddress')];
        if (advertised === undefined) continue;
        const self =
          w.kind === 'StatefulSet' ? `${podDnsName(w, pod.ordinal, namespace)}:${grpcPort}` : `${pod.ip}:${grpcPort}`;
        const what = w.kind === 'StatefulSet' ? 'its DNS name' : 'its pod IP (status.podIP)';
        if (advertised !== self) add(`${pod.name}: advertisedAddress ${advertised} is not ${what} ${self}`);
      }
      if (app === 'broker') {
        for (const pod of podsOf(w, namespace)) {
          const listed = (podEnv(c, pod)[envName(app, 'haReplicators')] ?? '').split(',').filter((a) => a !== '');
          const problem = listed.length > 0 ? haReplicatorsProblem(objects, namespace, listed) : undefined;
          if (problem) add(`${pod.name}: ${problem}`);
        }
        if (w.kind !== 'StatefulSet') {
          add(`${label(w)}: brokers must be a StatefulSet`);
          continue;
        }
        for (const pod of podsOf(w, namespace)) {
          let flags;
          try {
            flags = flagsOf(startArgs(c, pod).argv);
          } catch (err) {
            add(`${label(w)}: ${err.message}`);
            continue;
          }
          const self = `${podDnsName(w, pod.ordinal, namespace)}:${grpcPort}`;
          const master = `${podDnsName(w, 0, namespace)}:${grpcPort}`;
          if (flags['advertised-address'] !== self) add(`${pod.name}: advertisedAddress ${flags['advertised-address']} is not its DNS name ${self}`);
          if (flags['broker-name'] !== w.metadata.name) add(`${pod.name}: brokerName ${flags['broker-name']} is not ${w.metadata.name}`);
          if (flags['broker-id'] !== String(pod.ordinal)) add(`${pod.name}: brokerId ${flags['broker-id']} is not its ordinal ${pod.ordinal}`);
          const fixedRoles = !podEnv(c, pod)[envName(app, 'haReplicators')];
          const expectedMaster = pod.ordinal === 0 || !fixedRoles ? undefined : master;
          if (flags['master-address'] !== expectedMaster) add(`${pod.name}: masterAddress ${flags['master-address']} is not ${expectedMaster}`);
        }
      }
    }
  }

  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const selected = ws.filter((w) => matches(svc.spec?.selector, podLabels(w)));
    if (selected.length === 0) add(`${label(svc)}: selector matches no pods`);
    for (const port of svc.spec?.ports ?? []) {
      const ok = selected.every((w) =>
        (w.spec.template.spec.containers ?? []).some((c) =>
          (c.ports ?? []).some((p) => (typeof port.targetPort === 'string' ? p.name === port.targetPort : p.containerPort === (port.targetPort ?? port.port))),
        ),
      );
      if (!ok) add(`${label(svc)}: port ${port.name} targets ${port.targetPort}, which a selected pod does not expose`);
    }
  }
  for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const selected = ws.filter((w) => matches(pdb.spec?.selector?.matchLabels, podLabels(w)));
    if (selected.length === 0) add(`${label(pdb)}: selector matches no pods`);
    const replicas = selected.reduce((n, w) => n + (w.spec.replicas ?? 1), 0);
    if (pdb.spec.minAvailable !== undefined && pdb.spec.minAvailable >= replicas && replicas > 0) {
      add(`${label(pdb)}: minAvailable ${pdb.spec.minAvailable} of ${replicas} pods blocks every voluntary disruption`);
    }
  }
  for (const w of ws) {
    if (!objects.some((o) => o.kind === 'PodDisruptionBudget' && matches(o.spec?.selector?.matchLabels, podLabels(w)))) {
      add(`${label(w)}: no PodDisruptionBudget covers its pods`);
    }
  }
  return problems;
}

/** All checks of one overlay: { objects, namespace, problems }. */
function checkOverlay(name, renderer = findRenderer()) {
  const { objects, namespace, warnings } = renderOverlay(name, renderer);
  const problems = [
    ...warnings.map((w) => `kustomize: ${w}`),
    ...schemaProblems(objects),
    ...unknownFieldProblems(objects),
    ...consistencyProblems(objects, namespace),
  ];
  return { objects, namespace, problems };
}

function main(argv) {
  const renderer = findRenderer();
  if (!renderer) {
    process.stderr.write(`validate-manifests: no kubectl or kustomize to render the overlays; ${INSTALL_HINT}\n`);
    return 2;
  }
  process.stdout.write(`rendering with ${renderer.cmd} ${renderer.args.join(' ')} (${renderer.version})\n`);
  let failed = 0;
  for (const name of argv.length > 0 ? argv : listOverlays()) {
    let result;
    try {
      result = checkOverlay(name, renderer);
    } catch (err) {
      process.stdout.write(`deploy/overlays/${name}: FAILED\n  ${err.message.replace(/\n/g, '\n  ')}\n`);
      failed++;
      continue;
    }
    if (result.problems.length === 0) {
      const kinds = {};
      for (const o of result.objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
      const summary = Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ');
      process.stdout.write(`deploy/overlays/${name}: ${result.objects.length} objects valid (${summary})\n`);
    } else {
      failed++;
      process.stdout.write(`deploy/overlays/${name}: ${result.problems.length} problem(s)\n`);
      for (const p of result.problems) process.stdout.write(`  ${p}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

module.exports = {
  APPS,
  INSTALL_HINT,
  appOf,
  checkOverlay,
  configFileOf,
  consistencyProblems,
  envName,
  findRenderer,
  flagsOf,
  haReplicatorsProblem,
  listOverlays,
  plainEnv,
  podEnv,
  podsOf,
  renderOverlay,
  schemaProblems,
  startArgs,
  unknownFieldProblems,
  workloads,
};
