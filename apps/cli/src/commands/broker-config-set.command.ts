/**
 * `apogee broker config set <key> <value> [--broker HOST:PORT]`: changes one field of running
 * brokers (BrokerAdmin.SetConfig), in memory until their next restart, on one broker or on every
 * master. Only fields the broker marks as run-time fields change; the others answer "needs a restart".
 */
import type { BrokerAdminClient, BrokerAdminMethods } from '@apogee/protocol';
import { expectPositionals, type ParsedArgs } from '../cli-args';
import { UsageError } from '../cli-error';
import { brokerOutcomeJson, renderOutcomes } from '../broker-outcomes';
import { applyOnMasters, brokerTarget, type BrokerOutcome, type MasterBroker } from '../cluster-masters';
import type { Command, CommandContext, CommandOutput } from '../command';
import { callServer } from '../server-error';
import { BROKER_TARGET_OPTIONS, brokerTargets, CONFIG_HINTS, displayValue, parseBrokerTarget, parsedValue, type BrokerTargetInput } from './broker-config';
import { EXIT_FAILURE, EXIT_OK } from '../cli-error';

type SetConfigResponse = BrokerAdminMethods['SetConfig'][1];

export interface ConfigSetInput extends BrokerTargetInput {
  readonly key: string;
  readonly value: string;
}

export function parseConfigSet(args: ParsedArgs, env: CommandContext['env'] = {}): ConfigSetInput {
  const [key, value] = expectPositionals(args, ['key', 'value']) as [string, string];
  if (!/^[a-z][A-Za-z0-9]*$/.test(key)) {
    throw new UsageError(`config key ${JSON.stringify(key)} is not a field name; fields are camelCase, e.g. autoCreateTopics`);
  }
  return { ...parseBrokerTarget(args, env), key, value };
}

async function setOn(admin: BrokerAdminClient, master: MasterBroker, input: ConfigSetInput): Promise<BrokerOutcome<SetConfigResponse>> {
  const value = await callServer(brokerTarget(master), () => admin.call('SetConfig', { key: input.key, value: input.value }), CONFIG_HINTS);
  return { ...master, result: 'updated', value };
}

async function run(ctx: CommandContext): Promise<CommandOutput> {
  const input = parseConfigSet(ctx.args, ctx.env);
  const targets = await brokerTargets(ctx, input);
  const outcomes = await applyOnMasters(ctx, targets, (admin, master) => setOn(admin, master, input), `setting ${input.key}`);
  const failed = outcomes.filter((o) => o.result === 'failed').length;
  const changes = outcomes
    .filter((o) => o.value !== undefined)
    .map((o) => `${o.brokerName}: ${input.key} ${displayValue(o.value?.old_entry?.value_json)} -> ${displayValue(o.value?.entry?.value_json)}`);
  const where = targets.clusterName === '' ? `broker ${input.broker ?? ''}` : `cluster ${targets.clusterName}`;
  const text = [
    `Set ${input.key} = ${input.value} in ${where} (until the next restart; put it in the config to keep it):`,
    renderOutcomes(outcomes).trimEnd(),
    ...changes,
  ].join('\n');
  return {
    text: `${text}\n`,
    json: {
      key: input.key,
      value: input.value,
      ok: failed === 0,
      brokers: outcomes.map((o) => brokerOutcomeJson(o, (value) => ({ old: parsedValue(value.old_entry?.value_json), new: parsedValue(value.entry?.value_json) }))),
    },
    exitCode: failed === 0 ? EXIT_OK : EXIT_FAILURE,
    ...(failed === 0 ? {} : { warning: `setting ${input.key} failed on ${failed} of ${outcomes.length} broker${outcomes.length === 1 ? '' : 's'}` }),
  };
}

export const brokerConfigSetCommand: Command = {
  noun: 'broker',
  verb: 'config set',
  operands: '<key> <value>',
  summary: 'Change a config field of running brokers, until their next restart (run-time fields only)',
  synopsis: '<key> <value> [--broker HOST:PORT | --cluster C]',
  options: BROKER_TARGET_OPTIONS,
  examples: ['apogee broker config set autoCreateGroups true', 'apogee broker config set autoCreateTopics false --broker 127.0.0.1:8081 --json'],
  notes: [
    '`apogee broker config get` shows which fields can change at run time (RUNTIME yes); any other field answers "needs a restart":',
    "set it in the broker's config file, environment or flags and restart the broker.",
    'A change lasts until the broker restarts. Exit 0 when every broker changed, 1 when any refused or failed.',
  ],
  run,
};
