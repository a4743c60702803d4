import { loadNameServerService, NAMESERVER_SERVICE_NAME } from '@apogee/protocol';
import type { GrpcServiceRegistration } from '@apogee/runtime';
import { getClusterInfoHandler } from './handlers/get-cluster-info.handler';
import { heartbeatHandler } from './handlers/heartbeat.handler';
import { listTopicsHandler } from './handlers/list-topics.handler';
import { queryRouteHandler } from './handlers/query-route.handler';
import { registerBrokerHandler } from './handlers/register-broker.handler';
import { unaryCall } from '@apogee/runtime';
import { unregisterBrokerHandler } from './handlers/unregister-broker.handler';
import type { NameserverContext } from './nameserver-context';

/** apogee.nameserver.v1.NameServer over the context's route registry, ready for startService. */
export function createNameServerService(ctx: NameserverContext): GrpcServiceRegistration {
  const { logger } = ctx;
  const forBrokers = (method: string) => ({ method, logger, refusalLevel: 'warn' as const });
  const forQueries = (method: string) => ({ method, logger, refusalLevel: 'debug' as const });
  return {
    name: NAMESERVER_SERVICE_NAME,
    definition: loadNameServerService().service,
    implementation: {
      RegisterBroker: unaryCall(forBrokers('RegisterBroker'), registerBrokerHandler(ctx)),
      Heartbeat: unaryCall(forBrokers('Heartbeat'), heartbeatHandler(ctx)),
      UnregisterBroker: unaryCall(forBrokers('UnregisterBroker'), unregisterBrokerHandler(ctx)),
      QueryRoute: unaryCall(forQueries('QueryRoute'), queryRouteHandler(ctx)),
      GetClusterInfo: unaryCall(forQueries('GetClusterInfo'), getClusterInfoHandler(ctx)),
      ListTopics: unaryCall(forQueries('ListTopics'), listTopicsHandler(ctx)),
    },
  };
}
