import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * Where Apogee's own protos live: `PROTO_DIR` if set (containers), else `<repo>/proto`, which is
 * three levels up both from libs/protocol/src (tests, tsx) and from dist/apps/<app>/main.js.
 */
export function apogeeProtoDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PROTO_DIR || path.resolve(__dirname, '../../../proto'); // unset or empty: the repo's
}

/**
 * Loader options for every proto of ours (NODE-PERFORMANCE.md §5b): field names as in the .proto
 * (snake_case), int64 as strings, enums as names, and no `defaults`/`oneofs` (they cost 2–7 µs a
 * message; presence checks work without them).
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
});

/** Loads `proto/<file>` (e.g. 'apogee/nameserver/v1/nameserver.proto') as a grpc-js package tree. */
export function loadApogeeProto(file: string, dir = apogeeProtoDir()): grpc.GrpcObject {
  const definition = protoLoader.loadSync(path.join(dir, file), { ...PROTO_LOADER_OPTIONS, includeDirs: [dir] });
  return grpc.loadPackageDefinition(definition);
}

/** The service constructor at a dotted name (e.g. 'apogee.nameserver.v1.NameServer') of a loaded tree. */
export function serviceAt(tree: grpc.GrpcObject, name: string): grpc.ServiceClientConstructor {
  let node: unknown = tree;
  for (const part of name.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  if (typeof node !== 'function' || !('service' in node)) throw new Error(`no gRPC service ${name} in the loaded protos`);
  return node as grpc.ServiceClientConstructor;
}

const loadedServices = new Map<string, grpc.ServiceClientConstructor>();

/** The service constructor `name` of `proto/<file>` (its `.service` is what a server adds), loaded once per file, name and proto dir. */
export function loadApogeeService(file: string, name: string, dir?: string): grpc.ServiceClientConstructor {
  const key = `${dir ?? ''}\u0000${file}\u0000${name}`;
  let service = loadedServices.get(key);
  if (service === undefined) {
    service = serviceAt(loadApogeeProto(file, dir), name);
    loadedServices.set(key, service);
  }
  return service;
}
