// @apogee/testing: helpers for tests only (never imported by app or lib code).
export { freePort } from './free-port';
export { httpGet, type HttpResponse } from './http-get';
export {
  spawnService,
  WORKSPACE_ROOT,
  type ExitStatus,
  type SpawnedService,
  type SpawnServiceOptions,
} from './spawn-service';
export { waitFor, type WaitForOptions } from './wait-for';
export { describeAppProcess, describeInProcessApp, type AppProcessOptions, type InProcessApp } from './app-suites';
export { shutdownClient, shutdownClients, type ShutdownableClient } from './official-client-shutdown';
