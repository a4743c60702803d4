/**
 * Telemetry (doc §3.2): the client's bidi stream, identified by its x-mq-client-id header.
 *
 * Every `settings` command is answered promptly on the same stream with a `settings` command
 * (status OK, see client-settings.ts); without it the Node client's startup() never returns.
 * The first answer on a stream is pushed once more RESEND_SETTINGS_MS later: Node only releases
 * startup for an answer arriving while it waits, and with several declared topics the first
 * answer can come too early (doc §3.2, "Node startup race"); duplicates are simply re-applied.
 * Unknown client types get a settings answer with UNRECOGNIZED_CLIENT_TYPE rather than a stream
 * error (a stream error drives clients into a 1 s reconnect loop). Once the client's Settings
 * are known, the stream is attached to the ClientRegistry so the broker can send it commands
 * (RecoverOrphanedTransactionCommand to producers of a topic); it is detached when the stream
 * ends, is cancelled or fails. Other client commands
 * (thread stack traces, verify results) are ignored. The stream stays open until the client
 * half-closes (answered by ending ours) or cancels; the server never ends it on its own.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { ApogeeError, okV2Status, toGrpcStatus, v2StatusOf } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';
import type { ClientRegistry } from './client-registry';
import { answerSettings, type SettingsContext } from './client-settings';
import { clientIdOf } from './v2-unary';
import type { WireTelemetryCommand } from './v2-wire';

export const RESEND_SETTINGS_MS = 1_500;

export interface TelemetryDeps extends SettingsContext {
  readonly clients: ClientRegistry;
  readonly logger: Logger;
}

type TelemetryStream = ServerDuplexStream<WireTelemetryCommand, WireTelemetryCommand>;

export function telemetryHandler(deps: TelemetryDeps) {
  return (call: TelemetryStream): void => {
    let clientId: string;
    try {
      clientId = clientIdOf(call.metadata);
    } catch (err) {
      const answer = toGrpcStatus(err); // no client to answer Settings for: fail the stream itself
      deps.logger.debug({ error: answer.details }, 'telemetry refused');
      call.emit('error', answer);
      return;
    }
    const log = deps.logger.child({ clientId });
    let resendTimer: NodeJS.Timeout | undefined;
    let open = true;
    let detach: (() => void) | undefined;
    const write = (command: WireTelemetryCommand): boolean => {
      if (!open || call.cancelled || !call.writable) return false;
      call.write(command);
      return true;
    };
    const close = (): void => {
      open = false;
      detach?.();
      detach = undefined;
      if (resendTimer !== undefined) clearTimeout(resendTimer);
      resendTimer = undefined;
    };

    call.on('data', (command: WireTelemetryCommand) => {
      if (command.settings === undefined || command.settings === null) return; // not a command we asked for
      const answer = answerSettings(command.settings, deps);
      if (answer === undefined) {
        const err = new ApogeeError(
          'UNKNOWN_CLIENT_TYPE',
          `Client type ${JSON.stringify(command.settings.client_type ?? '')} is not served by this broker; ` +
            'use a producer, push consumer or simple consumer',
        );
        write({ status: v2StatusOf(err), settings: command.settings });
        return;
      }
      const client = deps.clients.recordSettings(clientId, command.settings);
      if (open) detach ??= deps.clients.attachTelemetry(clientId, write);
      log.debug({ clientType: client.clientType }, 'client settings');
      const reply: WireTelemetryCommand = { status: okV2Status(), settings: answer };
      write(reply);
      if (resendTimer === undefined) {
        resendTimer = setTimeout(() => void write(reply), RESEND_SETTINGS_MS);
        resendTimer.unref();
      }
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('error', (err: unknown) => {
      close();
      log.debug({ err }, 'telemetry stream failed');
    });
  };
}
