/**
 * How the index-service reaches a broker's apogee.broker.v1.BrokerDispatch service
 * (proto/apogee/broker/v1/dispatch.proto): a client per address, @apogee/protocol's
 * createBrokerDispatchClient in production, fakes in unit tests.
 */
import type { BrokerDispatchClient } from '@apogee/protocol';

export type DispatchClientFactory = (address: string) => BrokerDispatchClient;
