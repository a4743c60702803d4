/**
 * What a slave answers to writes: producer sends, transaction ends and recalls are refused with
 * NOT_MASTER (v2 HA_NOT_AVAILABLE, retriable: RocketMQ's clients treat it as an internal error and
 * retry, and a client with the right route retries on the master), naming the master.
 */
import { ApogeeError } from '@apogee/protocol';

/** The refusal of `what` on a slave whose master is at `masterAddress`. */
export function notMasterError(what: string, brokerName: string, masterAddress: string): ApogeeError {
  return new ApogeeError(
    'NOT_MASTER',
    `${what} refused: this broker is a slave of broker group ${JSON.stringify(brokerName)} and takes no writes; ` +
      `send to its master at ${masterAddress}`,
  );
}
