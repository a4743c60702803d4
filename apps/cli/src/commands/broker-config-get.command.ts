/**
 * `apogee broker config get [--broker HOST:PORT] [--key K]`: the effective config of a running
 * broker (BrokerAdmin.GetConfig; secret fields redacted), of one broker or of every master.
 */
import { brokerOutcomeJson } from '../broker-outcomes';
import type { BrokerAdminClient, BrokerAdminMethods } from '@apogee/protocol';
import { expectPositionals, stringOption, type ParsedArgs } from '../cli-args';
import { EXIT_FAILURE, EXIT_OK } from '../cli-error';
import { applyOnMasters, brokerTarget, type BrokerOutcome, type MasterBroker } from '../cluster-masters';
import type { Command, CommandContext, CommandOutput } from '../command';
import { callServer } from '../server-error';
import { formatTable } from '../table';
import { BROKER_TARGET_OPTIONS, brokerTargets, CONFIG_HINTS, displayValue, parseBrokerTarget, parsedValue, type BrokerTargetInput, type ConfigEntry } from './broker-config';

type GetConfigResponse = BrokerAdminMethods['GetConfig'][1];

export interface ConfigGetInput extends BrokerTargetInput {
  readonly key?: string;
}

export function parseConfigGet(args: ParsedArgs, env: CommandContext['env'] = {}): ConfigGetInput {
  expectPositionals(args, []);
  const key = stringOption(args, 'key');
  return { ...parseBrokerTarget(args, env), ...(key === undefined ? {} : { key }) };
}

function entriesOf(o: BrokerOutcome<GetConfigResponse>, key: string | undefined): ConfigEntry[] {
  return (o.value?.entries ?? []).filter((e) => key === undefined || e.key === key);
}

export function renderConfigGet(input: ConfigGetInput, outcomes: readonly BrokerOutcome<GetConfigResponse>[]): string {
  const sections = outcomes.map((o) => {
    const head = `Broker ${o.brokerName}${o.address && o.address !== o.brokerName ? ` (${o.address})` : ''}:`;
    if (o.value === undefined) return `${head}\n  FAILED: ${o.error?.message ?? 'no answer'}${o.error?.hint ? `\n  hint: ${o.error.hint}` : ''}`;
    const entries = entriesOf(o, input.key);
    if (entries.length === 0) return `${head}\n  no field ${JSON.stringify(input.key)}; run without --key to list them all`;
    const table = entries.map((e) => [e.key ?? '', displayValue(e.value_json), e.runtime ? 'yes' : 'restart']);
    return `${head}\n${formatTable(['key', 'value', 'runtime'], table).trimEnd()}`;
  });
  const footer = 'RUNTIME: "yes" can change now with `apogee broker config set <key> <value>`; "restart" needs a restart with a new config.';
  return `${[...sections, footer].join('\n\n')}\n`;
}

export function configGetJson(input: ConfigGetInput, outcomes: readonly BrokerOutcome<GetConfigResponse>[]): object {
  return {
    ok: outcomes.every((o) => o.result !== 'failed'),
    brokers: outcomes.map((o) =>
      brokerOutcomeJson(o, () => {
        const entries = entriesOf(o, input.key);
        return {
          config: Object.fromEntries(entries.map((e) => [e.key ?? '', parsedValue(e.value_json)])),
          runtime: entries.filter((e) => e.runtime).map((e) => e.key),
          secret: entries.filter((e) => e.secret).map((e) => e.key),
        };
      }),
    ),
  };
}

async function getOn(admin: BrokerAdminClient, master: MasterBroker): Promise<BrokerOutcome<GetConfigResponse>> {
  const value = await callServer(brokerTarget(master), () => admin.call('GetConfig', {}), CONFIG_HINTS);
  return { ...master, result: 'read', value };
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseConfigGet(ctx.args, ctx.env);
  const targets = await brokerTargets(ctx, input);
  const outcomes = await applyOnMasters(ctx, targets, getOn, 'reading broker config');
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  const unknownKey = input.key !== undefined && outcomes.some((o) => o.value !== undefined && entriesOf(o, input.key).length === 0);
  const warning =
    failed > 0
      ? `reading the config failed on ${failed} of ${outcomes.length} broker${outcomes.length === 1 ? '' : 's'}`
      : unknownKey
        ? `no config field ${JSON.stringify(input.key)}`
        : undefined;
  return {
    text: renderConfigGet(input, outcomes),
    json: configGetJson(input, outcomes),
    exitCode: warning === undefined ? EXIT_OK : EXIT_FAILURE,
    ...(warning === undefined ? {} : { warning }),
  };
}

export const brokerConfigGetCommand: Command = {
  noun: 'broker',
  verb: 'config get',
  operands: '',
  summary: "Show a running broker's effective config (secrets redacted), and which fields can change at run time",
  synopsis: '[--broker HOST:PORT | --cluster C] [--key K]',
  options: {
    ...BROKER_TARGET_OPTIONS,
    key: { type: 'string', value: 'K', description: 'only this field (camelCase, e.g. autoCreateTopics)' },
  },
  examples: ['apogee broker config get --broker 127.0.0.1:8081', 'apogee broker config get --key autoCreateTopics --json'],
  notes: ['The values the broker runs with now: defaults < config file < environment < flags, plus run-time changes since it started.'],
  run,
};
