/**
 * Shared by `apogee message query` and `apogee message get`: where the index-service is, how one
 * found message prints (text and --json), and how a failed index-service call is explained.
 */
import type { IndexFoundMessage } from '@apogee/protocol';
import { parseBrokerAddress } from '@apogee/routing';
import { stringOption, type ParsedArgs } from '../cli-args';
import { UsageError } from '../cli-error';
import type { FailureHints, ServerTarget } from '../server-error';

/** The local cluster's index-service (`npm start`; apps/index-service config grpcPort). */
export const DEFAULT_INDEX = '127.0.0.1:9877';
export const INDEX_ENV = 'APOGEE_INDEX';

export const INDEX_OPTION = {
  type: 'string',
  value: 'HOST:PORT',
  description: `index-service gRPC address (default ${DEFAULT_INDEX}, or $${INDEX_ENV})`,
} as const;

/** --index, else $APOGEE_INDEX, else the local cluster's; checked as host:port. */
export function indexOf(args: ParsedArgs, env: Readonly<Record<string, string | undefined>> = {}): string {
  const given = stringOption(args, 'index');
  const address = given ?? (env[INDEX_ENV] || DEFAULT_INDEX);
  try {
    parseBrokerAddress(address);
  } catch {
    throw new UsageError(`${given === undefined ? `$${INDEX_ENV}` : '--index'} ${JSON.stringify(address)} is not HOST:PORT`);
  }
  return address;
}

export function indexTarget(address: string): ServerTarget {
  return { kind: 'index-service', address };
}

export function indexHints(address: string): FailureHints {
  return {
    UNAVAILABLE: `Check that an index-service runs at ${address} (\`npm start\` runs one), or pass --index HOST:PORT.`,
    DEADLINE_EXCEEDED: `Check that an index-service runs at ${address} (\`npm start\` runs one), or pass --index HOST:PORT.`,
    UNIMPLEMENTED: "Point --index at an index-service's gRPC port (default 9877).",
    BROKER_UNAVAILABLE: 'A broker holding matching messages is down, so the answer would be incomplete; `apogee cluster status` shows which, retry once it is back.',
  };
}

/** A message as --json prints it: int64 fields as numbers, body as text when printable UTF-8, else base64. */
export interface MessageJson {
  readonly messageId: string;
  readonly topic: string;
  readonly tag: string;
  readonly keys: readonly string[];
  readonly properties: Readonly<Record<string, string>>;
  readonly storeTime: string;
  readonly bornTime: string;
  readonly bornHost: string;
  readonly broker: string;
  readonly queueId: number;
  readonly queueOffset: number;
  readonly physicalOffset: number;
  readonly bodyEncoding: 'utf8' | 'base64';
  readonly body: string;
  readonly bodyBytes: number;
}

/** The body as text when it is valid UTF-8 without control characters (tab and newlines allowed). */
export function bodyText(body: Uint8Array): { encoding: 'utf8' | 'base64'; text: string } {
  const buf = Buffer.from(body);
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    if (![...text].some(isControl)) return { encoding: 'utf8', text };
  } catch {
    // not UTF-8
  }
  return { encoding: 'base64', text: buf.toString('base64') };
}

/** C0 controls and DEL, except tab, newline and carriage return. */
function isControl(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return (code < 0x20 && ch !== '\t' && ch !== '\n' && ch !== '\r') || code === 0x7f;
}

const iso = (ms: number): string => (ms > 0 ? new Date(ms).toISOString() : '-');

export function messageJson(m: IndexFoundMessage): MessageJson {
  const body = bodyText(m.body ?? Buffer.alloc(0));
  return {
    messageId: m.message_id ?? '',
    topic: m.topic ?? '',
    tag: m.tag ?? '',
    keys: m.keys ?? [],
    properties: m.properties ?? {},
    storeTime: iso(Number(m.store_timestamp_ms ?? 0)),
    bornTime: iso(Number(m.born_timestamp_ms ?? 0)),
    bornHost: m.born_host ?? '',
    broker: m.broker_name ?? '',
    queueId: m.queue_id ?? 0,
    queueOffset: Number(m.queue_offset ?? 0),
    physicalOffset: Number(m.physical_offset ?? 0),
    bodyEncoding: body.encoding,
    body: body.text,
    bodyBytes: (m.body ?? Buffer.alloc(0)).length,
  };
}

/** One message as a block of `name: value` lines. */
export function renderMessage(m: IndexFoundMessage): string {
  const j = messageJson(m);
  const props = Object.entries(j.properties).sort(([a], [b]) => (a < b ? -1 : 1));
  const lines = [
    `message id:   ${j.messageId}`,
    `topic:        ${j.topic}`,
    `tag:          ${j.tag || '-'}`,
    `keys:         ${j.keys.length === 0 ? '-' : j.keys.join(', ')}`,
    `properties:   ${props.length === 0 ? '-' : props.map(([k, v]) => `${k}=${v}`).join(', ')}`,
    `store time:   ${j.storeTime}`,
    `born:         ${j.bornTime}${j.bornHost ? ` from ${j.bornHost}` : ''}`,
    `broker:       ${j.broker}, queue ${j.queueId}, offset ${j.queueOffset} (commit log ${j.physicalOffset})`,
    `body:         ${j.bodyBytes} byte${j.bodyBytes === 1 ? '' : 's'}${j.bodyEncoding === 'base64' ? ', base64 (not printable UTF-8)' : ''}`,
    ...j.body.split('\n').map((line) => `  ${line}`),
  ];
  return `${lines.join('\n')}\n`;
}
