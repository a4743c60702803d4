/** Help texts: the command list, one noun's verbs, and one verb's synopsis, options and examples. */
import { COMMON_OPTIONS, type OptionSpecs } from './cli-args';
import type { Command } from './command';

const INDENT = '  ';

function columns(rows: readonly [string, string][]): string {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `${INDENT}${left.padEnd(width)}  ${right}`.trimEnd()).join('\n');
}

function optionRows(options: OptionSpecs): [string, string][] {
  return Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` ${spec.value}` : ''}`;
    return [flag, spec.description];
  });
}

function commandRows(commands: readonly Command[]): [string, string][] {
  return commands.map((c) => [`${c.noun} ${c.verb}${c.operands ? ` ${c.operands}` : ''}`, c.summary]);
}

export function renderRootHelp(commands: readonly Command[]): string {
  return [
    'apogee: administer an Apogee cluster (topics, consumer groups, messages, broker config, cluster status).',
    '',
    'Usage: apogee <noun> <verb> [arguments] [options]',
    '',
    'Commands:',
    columns(commandRows(commands)),
    '',
    'Options of every command:',
    columns(optionRows(COMMON_OPTIONS)),
    '',
    "Run 'apogee <noun> <verb> --help' for a command's options and examples.",
    'Exit status: 0 done, 1 a server or connection failure, 2 a bad command line.',
    '',
    'Example:',
    `${INDENT}npx apogee cluster status --nameserver 127.0.0.1:9876`,
    '',
  ].join('\n');
}

export function renderNounHelp(noun: string, commands: readonly Command[]): string {
  const verbs = commands.filter((c) => c.noun === noun);
  return [
    `Usage: apogee ${noun} <verb> [arguments] [options]`,
    '',
    'Verbs:',
    columns(commandRows(verbs)),
    '',
    `Run 'apogee ${noun} <verb> --help' for a verb's options and examples.`,
    '',
  ].join('\n');
}

export function renderCommandHelp(command: Command): string {
  const synopsis = `apogee ${command.noun} ${command.verb}${command.synopsis ? ` ${command.synopsis}` : ''} [options]`;
  const lines = [`${command.summary}.`, '', `Usage: ${synopsis}`, '', 'Options:', columns(optionRows({ ...command.options, ...COMMON_OPTIONS }))];
  if (command.notes?.length) lines.push('', ...command.notes);
  lines.push('', command.examples.length === 1 ? 'Example:' : 'Examples:', ...command.examples.map((e) => `${INDENT}npx ${e}`), '');
  return lines.join('\n');
}

/** Where to look after a usage error. */
export function usageHint(noun?: string, verb?: string): string {
  const path = [noun, verb].filter(Boolean).join(' ');
  return `Run 'apogee ${path ? `${path} ` : ''}--help' for usage.`;
}
