/** Shared by `topic delete` and `group delete`: a broker without the object is "absent", not a failure. */
import { status } from '@grpc/grpc-js';
import type { BrokerOutcome, MasterBroker } from '../cluster-masters';
import { brokerTarget } from '../cluster-masters';
import { callServer, isServiceError, type FailureHints } from '../server-error';

/** Runs the delete; NOT_FOUND becomes 'absent' (running the command again is safe). */
export async function deleteOn<T>(master: MasterBroker, call: () => Promise<T | undefined>, hints: FailureHints = {}): Promise<BrokerOutcome<T>> {
  try {
    const value = await callServer(brokerTarget(master), call, hints);
    return { ...master, result: 'deleted', ...(value === undefined ? {} : { value }) };
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    if (isServiceError(cause) && cause.code === status.NOT_FOUND) return { ...master, result: 'absent' };
    throw err;
  }
}

/** The whole delete failed when no broker had the object: probably a typo. */
export function nowhere(kind: 'topic' | 'group', name: string, listCommand: string) {
  return (outcomes: readonly BrokerOutcome<unknown>[]): string | undefined =>
    outcomes.length > 0 && outcomes.every((o) => o.result === 'absent')
      ? `no broker of the cluster has ${kind} ${name}; check the name (\`${listCommand}\` lists them)`
      : undefined;
}
