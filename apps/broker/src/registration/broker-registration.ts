import type { NameServerRegistration } from '@apogee/protocol';
import { roleOf } from '@apogee/routing';
import type { Logger } from '@apogee/runtime';
import type { BrokerConfig } from '../config';
import type { TopicRegistry } from '../metadata/topic-registry';
import type { RegistrationMetrics } from '../metrics';
import { advertisedAddressOf } from './advertised-address';
import { NameServerRegistrar, type RegistrarTiming } from './nameserver-registrar';

export type RegistrationConfig = Pick<
  BrokerConfig,
  'clusterName' | 'brokerName' | 'brokerId' | 'nameservers' | 'advertisedAddress' | 'grpcHost'
>;

export interface BrokerRegistrationOptions {
  readonly config: RegistrationConfig;
  /** The port the gRPC server listens on (the real one when grpcPort is 0). */
  readonly boundPort: number;
  readonly topics: TopicRegistry;
  readonly metrics: RegistrationMetrics;
  readonly logger: Logger;
  readonly timing?: RegistrarTiming;
  /**
   * Who the broker is in the routes now, when its role can change (ha/role-runner.ts): id, role and
   * the address clients reach it at. Absent: config.brokerId, its role, the advertised address.
   */
  readonly identity?: () => { readonly brokerId: number; readonly address: string };
}

/**
 * Starts registering the broker (cluster, name, id, role from the id, advertised address and every
 * topic in the registry) with every configured nameserver, re-registering on topic changes.
 * Call once the gRPC server listens; `stop` unregisters (bounded wait) and stops every timer.
 */
export function startBrokerRegistration(options: BrokerRegistrationOptions): {
  address: string;
  /** The identity changed: register again (the old identity is unregistered once the new one is in). */
  refresh(): void;
  stop(): Promise<void>;
} {
  const { config, topics } = options;
  const address = advertisedAddressOf(config, options.boundPort);
  const identity = options.identity ?? (() => ({ brokerId: config.brokerId, address }));
  const registration = (): NameServerRegistration => {
    const { brokerId, address: registered } = identity();
    return {
      clusterName: config.clusterName,
      brokerName: config.brokerName,
      brokerId,
      address: registered,
      role: roleOf(brokerId),
      topics: topics.list(),
    };
  };
  const registrar = new NameServerRegistrar({
    nameservers: config.nameservers,
    registration,
    logger: options.logger.child({ component: 'registration' }),
    metrics: options.metrics,
    timing: options.timing,
  });
  const unsubscribe = topics.onChange(() => registrar.topicsChanged());
  registrar.start();
  return {
    address,
    refresh: () => registrar.topicsChanged(),
    stop: () => {
      unsubscribe();
      return registrar.stop();
    },
  };
}
