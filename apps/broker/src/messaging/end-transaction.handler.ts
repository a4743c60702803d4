/**
 * EndTransaction (doc §3.6, §4.6): commits or rolls back the open transaction of a half message,
 * named by the transaction id of its send receipt (or of a RecoverOrphanedTransactionCommand),
 * with its message id and topic. COMMIT makes the message deliverable in its topic with the same
 * message id; ROLLBACK discards it (transaction/transaction-store.ts). Both answer OK, also when
 * the same resolution is repeated (a client commit racing a check commit).
 *
 * Refusals, all v2 INVALID_TRANSACTION_ID (the Node and Java clients throw on any non-OK code):
 * TRANSACTION_ID_REQUIRED for a blank id; TRANSACTION_NOT_FOUND for an unknown or long-resolved
 * id, or one naming another message or topic; TRANSACTION_ALREADY_RESOLVED for a commit after a
 * rollback or the reverse. An unspecified resolution is BAD_REQUEST.
 *
 * SYNC replication (`replicated`): a COMMIT answers OK only once a slave confirmed the master's
 * log up to its end after the commit (which covers the committed message; waiting for the end,
 * not the record, keeps TransactionStore unchanged); else the retriable replication failure,
 * with the commit already stored: a repeated commit (the client's, or after a check) stores the
 * message again, a duplicate by message id as the protocol allows.
 */
import { ApogeeError, okV2Status } from '@apogee/protocol';
import type { Logger } from '@apogee/runtime';
import type { TransactionResolution, TransactionStore } from '../transaction/transaction-store';
import type { WireResource, WireStatusResponse } from './v2-wire';

export interface WireEndTransactionRequest {
  topic?: WireResource;
  message_id?: string;
  transaction_id?: string;
  resolution?: string;
  source?: string;
  trace_context?: string;
}

export interface EndTransactionDeps {
  readonly transactions: Pick<TransactionStore, 'end'>;
  readonly logger: Logger;
  /** Set on a SYNC-replicating master: resolves once a slave confirmed the master's log up to its current end. */
  readonly replicated?: () => Promise<void>;
}

export function endTransactionHandler(deps: EndTransactionDeps) {
  return async (request: WireEndTransactionRequest): Promise<WireStatusResponse> => {
    const transactionId = request.transaction_id ?? '';
    if (transactionId.trim() === '') {
      throw new ApogeeError(
        'TRANSACTION_ID_REQUIRED',
        'EndTransaction names no transaction_id; send the transaction id of the send receipt or of the check',
      );
    }
    const resolution = resolutionOf(request.resolution);
    const topic = request.topic?.name ?? '';
    const messageId = request.message_id ?? '';
    await deps.transactions.end({ transactionId, messageId, topic, resolution });
    if (resolution === 'COMMIT' && deps.replicated !== undefined) await deps.replicated();
    deps.logger.debug({ transactionId, topic, resolution, source: request.source }, 'transaction ended');
    return { status: okV2Status() };
  };
}

function resolutionOf(value: string | undefined): TransactionResolution {
  if (value === 'COMMIT' || value === 'ROLLBACK') return value;
  throw new ApogeeError(
    'BAD_REQUEST',
    `EndTransaction resolution ${JSON.stringify(value ?? '')} is neither COMMIT nor ROLLBACK; name one of them`,
  );
}
