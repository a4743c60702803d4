/**
 * apache.rocketmq.v2 (the RocketMQ 5 gRPC protocol) as the official clients speak it.
 *
 * The .proto files are never copied into this repo: they are loaded at run time from the
 * installed `rocketmq-client-nodejs` package (proto/apache/rocketmq/v2/service.proto), so the
 * wire contract is exactly the one the official Node client was built against. Loader options are
 * ours (PROTO_LOADER_OPTIONS): snake_case field names, int64 as strings, enums as names; oneofs
 * are read by presence (`command.settings !== undefined`).
 */
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { toV2Status, type V2Status } from './error-mapping';
import { PROTO_LOADER_OPTIONS, serviceAt } from './proto-loader';

export const ROCKETMQ_CLIENT_PACKAGE = 'rocketmq-client-nodejs';
export const MESSAGING_SERVICE_NAME = 'apache.rocketmq.v2.MessagingService';
const SERVICE_PROTO = 'apache/rocketmq/v2/service.proto';

/** The `proto` folder of the installed official client (the include root of its v2 protos). */
export function rocketMqProtoDir(): string {
  const packageJson = require.resolve(`${ROCKETMQ_CLIENT_PACKAGE}/package.json`);
  return path.join(path.dirname(packageJson), 'proto');
}

let cached: grpc.ServiceClientConstructor | undefined;
let cachedDefinition: protoLoader.PackageDefinition | undefined;

function packageDefinition(): protoLoader.PackageDefinition {
  if (cachedDefinition !== undefined) return cachedDefinition;
  const dir = rocketMqProtoDir();
  cachedDefinition = protoLoader.loadSync(path.join(dir, SERVICE_PROTO), { ...PROTO_LOADER_OPTIONS, includeDirs: [dir] });
  return cachedDefinition;
}

/** The MessagingService client constructor; `.service` is the definition servers register. Loaded once. */
export function loadMessagingService(): grpc.ServiceClientConstructor {
  cached ??= serviceAt(grpc.loadPackageDefinition(packageDefinition()), MESSAGING_SERVICE_NAME);
  return cached;
}

/** An enum of the v2 protos by full name (e.g. 'apache.rocketmq.v2.Code'): value name → number, for hand-written codecs. */
export function v2EnumValues(name: string): ReadonlyMap<string, number> {
  const descriptor = packageDefinition()[name] as { type?: { value?: Array<{ name: string; number: number }> } } | undefined;
  const values = descriptor?.type?.value;
  if (values === undefined) throw new Error(`no enum ${name} in the apache.rocketmq.v2 protos`);
  return new Map(values.map((v) => [v.name, v.number]));
}

/** Status{OK}: every answer carries an explicit status (Java reads an absent one as CODE_UNSPECIFIED). */
export function okV2Status(message = 'OK'): V2Status {
  return { code: 'OK', message };
}

/** The in-band Status for any error, through the error registry (unregistered errors: INTERNAL_SERVER_ERROR). */
export function v2StatusOf(err: unknown): V2Status {
  return toV2Status(err);
}
