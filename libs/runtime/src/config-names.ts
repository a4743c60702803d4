/** Name conversions shared by the config loader and its help text. */

/** grpcPort → grpc-port */
export function toKebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** grpc-port → grpcPort (camelCase input is returned unchanged) */
export function toCamelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** grpcPort → GRPC_PORT, index-service → INDEX_SERVICE */
export function toScreamingSnakeCase(name: string): string {
  return toKebabCase(name).replace(/-/g, '_').toUpperCase();
}

/** The environment variable for one field: APOGEE_BROKER_GRPC_PORT. */
export function envVarName(app: string, key: string): string {
  return `APOGEE_${toScreamingSnakeCase(app)}_${toScreamingSnakeCase(key)}`;
}
