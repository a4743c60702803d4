/** Shared by `apogee broker config get|set`: which brokers (--broker, else every master) and how an entry reads. */
import type { BrokerAdminMethods } from '@apogee/protocol';
import { parseBrokerAddress } from '@apogee/routing';
import { clusterOption, nameserverOf, stringOption, type OptionSpecs, type ParsedArgs } from '../cli-args';
import { UsageError } from '../cli-error';
import { mastersOf, type ClusterMasters } from '../cluster-masters';
import { withNameServer, type CommandContext } from '../command';
import { callServer, type FailureHints } from '../server-error';

export type ConfigEntry = NonNullable<BrokerAdminMethods['SetConfig'][1]['entry']>;

export const BROKER_TARGET_OPTIONS: OptionSpecs = {
  broker: { type: 'string', value: 'HOST:PORT', description: "one broker's gRPC address (default: every master of the cluster, from the nameserver)" },
  cluster: { type: 'string', value: 'C', description: 'without --broker: the cluster whose masters are asked (default: the only cluster)' },
};

export interface BrokerTargetInput {
  readonly nameserver: string;
  readonly broker?: string;
  readonly cluster?: string;
}

export function parseBrokerTarget(args: ParsedArgs, env: CommandContext['env']): BrokerTargetInput {
  const broker = stringOption(args, 'broker');
  if (broker !== undefined) {
    try {
      parseBrokerAddress(broker);
    } catch {
      throw new UsageError(`--broker ${JSON.stringify(broker)} is not HOST:PORT`);
    }
  }
  const cluster = clusterOption(args);
  if (broker !== undefined && cluster !== undefined) throw new UsageError('give --broker or --cluster, not both');
  return { nameserver: nameserverOf(args, env), ...(broker === undefined ? {} : { broker }), ...(cluster === undefined ? {} : { cluster }) };
}

/** --broker alone (named by its address), else every master of the cluster. */
export async function brokerTargets(ctx: CommandContext, input: BrokerTargetInput): Promise<ClusterMasters> {
  if (input.broker !== undefined) return { clusterName: '', masters: [{ brokerName: input.broker, address: input.broker }], withoutMaster: [] };
  const target = { kind: 'nameserver', address: input.nameserver } as const;
  const info = await withNameServer(ctx, input.nameserver, (ns) => callServer(target, () => ns.clusterInfo()));
  return mastersOf(info, input.nameserver, input.cluster);
}

export const CONFIG_HINTS: FailureHints = {
  UNIMPLEMENTED: 'This broker does not serve GetConfig/SetConfig (older than the CLI, or started without config access); upgrade it.',
  NOT_IMPLEMENTED: 'This broker was started without config access (GetConfig/SetConfig); upgrade it.',
  INVALID_CONFIG: "Set it in the broker's config file, environment or flags and restart the broker; `apogee broker config get` marks what can change at run time.",
  BAD_REQUEST: '`apogee broker config get` lists the fields and their current values.',
};

/** The value for humans: strings bare, everything else as JSON. */
export function displayValue(valueJson: string | undefined): string {
  if (valueJson === undefined) return '-';
  try {
    const value: unknown = JSON.parse(valueJson);
    if (typeof value === 'string') return value === '' ? '""' : value;
    if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
    return String(value);
  } catch {
    return valueJson;
  }
}

export function parsedValue(valueJson: string | undefined): unknown {
  try {
    return valueJson === undefined ? null : (JSON.parse(valueJson) as unknown);
  } catch {
    return valueJson;
  }
}
