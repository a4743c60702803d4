/**
 * Leader election through etcd: every ha-replicator campaigns in one etcd election (etcd3's
 * `election(name, ttl).campaign(candidateId)`, the Go client's concurrency.Election); the one whose
 * key was created first under the election prefix is the leader. The key lives on a lease with
 * ttlSeconds, kept alive by etcd3.
 *
 * Safety: etcd3 alone is not enough. Its Campaign only emits 'error' once the lease is
 * known lost, and with etcd unreachable that is 2 x TTL after the last keepalive, when another
 * candidate may already have been leader for a whole TTL. So while leader this class proves the
 * lease itself: every TTL/4 it renews the lease with a one-shot keepalive whose answer gives the
 * granted TTL, which bounds the lease's expiry from below (sent at + TTL: etcd renewed it no earlier
 * than we sent). It reports leader only while that bound is more than TTL/4 away, and steps down
 * (isLeader false, onChange(false)) when it gets that close without a fresh proof, on a campaign
 * error, or when etcd says the lease is gone. After stepping down it abandons the campaign
 * (revoking the lease when etcd is reachable) and campaigns again with back-off until stop().
 */
import type { Logger } from '@apogee/runtime';
import { Etcd3, type Campaign, type CallContext } from 'etcd3';
import { LeadershipState, type LeaderElection } from './leader-election';

export interface EtcdLeaderElectionOptions {
  /** etcd client URLs, e.g. http://127.0.0.1:2379. */
  endpoints: string[];
  electionName: string;
  /** The value this candidate campaigns with; shown as the leader's value in etcd. */
  candidateId: string;
  ttlSeconds: number;
  logger: Logger;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;
/** Unary etcd calls (grant, txn, revoke) fail after this long instead of hanging on a dead etcd. */
const UNARY_DEADLINE_MIN_MS = 2_000;

/** One campaign: its etcd3 Campaign, its lease id once granted, and how long the lease is proven alive. */
interface Attempt {
  readonly campaign: Campaign;
  leaseId?: string;
  /** Local time before which the lease certainly has not expired in etcd. */
  provenUntilMs: number;
  checking: boolean;
  watchdog?: NodeJS.Timeout;
  checkTimer?: NodeJS.Timeout;
}

class LeaseGoneError extends Error {}

export class EtcdLeaderElection implements LeaderElection {
  private readonly state = new LeadershipState();
  private readonly log: Logger;
  private readonly ttlMs: number;
  /** Leader only while the lease is proven alive for longer than this; also the proof interval. */
  private readonly marginMs: number;
  private client?: Etcd3;
  private attempt?: Attempt;
  private retryDelayMs = RETRY_MIN_MS;
  private retryTimer?: NodeJS.Timeout;
  private stopping?: Promise<void>;

  constructor(private readonly options: EtcdLeaderElectionOptions) {
    if (options.endpoints.length === 0) throw new Error('EtcdLeaderElection needs at least one etcd endpoint');
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) {
      throw new Error(`election TTL must be a whole number of seconds >= 1, got ${options.ttlSeconds}`);
    }
    this.ttlMs = options.ttlSeconds * 1_000;
    this.marginMs = this.ttlMs / 4;
    this.log = options.logger.child({ component: 'leader-election', election: options.electionName, candidate: options.candidateId });
  }

  /** Also false once the lease proof runs out, even if a blocked event loop has delayed the watchdog. */
  get isLeader(): boolean {
    const attempt = this.attempt;
    return this.state.isLeader && attempt !== undefined && Date.now() < attempt.provenUntilMs - this.marginMs;
  }

  onChange(listener: (isLeader: boolean) => void): () => void {
    return this.state.onChange(listener);
  }

  async start(): Promise<void> {
    if (this.stopping) throw new Error('EtcdLeaderElection cannot be restarted after stop()');
    if (this.client) return;
    const unaryDeadlineMs = Math.max(this.ttlMs, UNARY_DEADLINE_MIN_MS);
    this.client = new Etcd3({
      hosts: this.options.endpoints,
      // Streams (watch, keepalive) live long; every other call gets a deadline.
      defaultCallOptions: (context: CallContext) => (context.isStream ? {} : { deadline: Date.now() + unaryDeadlineMs }),
    });
    this.log.info({ endpoints: this.options.endpoints, ttlSeconds: this.options.ttlSeconds }, 'campaigning');
    this.campaign();
  }

  /** The elected candidate's id as etcd holds it (the oldest campaign key's value); undefined with none or etcd unreachable. */
  async leaderId(): Promise<string | undefined> {
    const client = this.client;
    if (!client || this.stopping) return undefined;
    try {
      return await client.election(this.options.electionName, this.options.ttlSeconds).leader();
    } catch (err) {
      this.log.debug({ err }, 'leader lookup failed');
      return undefined;
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    clearTimeout(this.retryTimer);
    const attempt = this.attempt;
    this.attempt = undefined;
    this.setLeader(false, 'stopped');
    if (attempt) {
      this.clearTimers(attempt);
      try {
        await withTimeout(attempt.campaign.resign(), this.ttlMs, 'resign');
        this.log.info('resigned');
      } catch (err) {
        this.log.warn({ err, ttlSeconds: this.options.ttlSeconds }, 'resign failed; the lease expires within its TTL');
      }
    }
    this.client?.close();
  }

  private campaign(): void {
    const client = this.client;
    if (!client || this.stopping) return;
    // The campaign sends its lease grant after this instant, so the lease cannot expire before then + TTL.
    const createdAtMs = Date.now();
    const campaign = client.election(this.options.electionName, this.options.ttlSeconds).campaign(this.options.candidateId);
    const attempt: Attempt = { campaign, provenUntilMs: createdAtMs + this.ttlMs, checking: false };
    this.attempt = attempt;
    campaign.on('error', (err) => this.fail(attempt, 'campaign failed', err));
    campaign.on('elected', () => void this.onElected(attempt));
    campaign.getCampaignKey().then(
      (key) => {
        attempt.leaseId = key.slice(key.lastIndexOf('/') + 1);
        if (this.attempt === attempt) this.retryDelayMs = RETRY_MIN_MS; // etcd answered: back-off starts over
      },
      () => undefined, // a failed grant also emits 'error' on the campaign, handled (and logged) by fail()
    );
  }

  private async onElected(attempt: Attempt): Promise<void> {
    // etcd3 can emit 'elected' after resign() (its wait loop ends by emitting), so check it is still ours.
    if (this.attempt !== attempt) return;
    try {
      await this.proveLease(attempt);
    } catch (err) {
      this.fail(attempt, 'elected but the lease could not be confirmed', err);
      return;
    }
    if (this.attempt !== attempt) return;
    attempt.checkTimer = setInterval(() => void this.recheck(attempt), this.marginMs);
    this.setLeader(true, 'elected');
  }

  private async recheck(attempt: Attempt): Promise<void> {
    if (attempt.checking || this.attempt !== attempt) return;
    attempt.checking = true;
    try {
      await this.proveLease(attempt);
    } catch (err) {
      if (err instanceof LeaseGoneError) {
        this.fail(attempt, 'lease lost', err);
      } else if (this.attempt === attempt) {
        // Not yet a reason to step down: the lease is proven alive for a while still, and the
        // watchdog steps down if no later proof arrives in time.
        const provenForMs = attempt.provenUntilMs - Date.now();
        this.log.warn({ err, provenForMs }, 'lease renewal failed; stepping down unless a retry succeeds');
      }
    } finally {
      attempt.checking = false;
    }
  }

  /**
   * Renews the lease with a one-shot keepalive and moves provenUntilMs to (sent at + granted TTL),
   * re-arming the watchdog that steps down marginMs before it. Throws LeaseGoneError if etcd
   * answers that the lease no longer exists.
   */
  private async proveLease(attempt: Attempt): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('election not started');
    const leaseId = attempt.leaseId ?? (await attempt.campaign.getCampaignKey()).split('/').pop();
    const sentAtMs = Date.now();
    const stream = await client.leaseClient.leaseKeepAlive({ deadline: sentAtMs + this.marginMs });
    const ttlSeconds = await new Promise<number>((resolve, reject) => {
      stream.on('error', reject); // also catches errors after end(), once the promise has settled
      stream.on('data', (res: { TTL: string }) => resolve(Number(res.TTL)));
      stream.write({ ID: leaseId });
    }).finally(() => stream.end());
    if (!(ttlSeconds > 0)) throw new LeaseGoneError(`etcd reports lease ${leaseId} expired or revoked`);
    attempt.provenUntilMs = Math.max(attempt.provenUntilMs, sentAtMs + ttlSeconds * 1_000);
    if (this.attempt !== attempt) return;
    clearTimeout(attempt.watchdog);
    const stepDownInMs = attempt.provenUntilMs - this.marginMs - Date.now();
    attempt.watchdog = setTimeout(() => {
      const err = new Error(`no lease renewal confirmed in time: the lease may expire within ${this.marginMs} ms`);
      this.fail(attempt, 'lease not confirmed in time', err);
    }, Math.max(0, stepDownInMs));
  }

  /** Steps down (if leader), abandons the attempt and campaigns again after a back-off. */
  private fail(attempt: Attempt, reason: string, err: unknown): void {
    if (this.attempt !== attempt || this.stopping) return;
    this.attempt = undefined;
    this.clearTimers(attempt);
    const wasLeader = this.state.isLeader;
    this.setLeader(false, reason);
    const retryInMs = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS);
    if (wasLeader) this.log.error({ err, retryInMs }, `${reason}; stepped down, campaigning again`);
    else this.log.warn({ err, retryInMs }, `${reason}; campaigning again`);
    // Revoke the old lease so its key goes at once; when etcd is unreachable it expires on its own.
    attempt.campaign.resign().catch((resignErr: unknown) => {
      this.log.warn({ err: resignErr, ttlSeconds: this.options.ttlSeconds }, 'abandoned campaign not resigned; its lease expires within its TTL');
    });
    this.retryTimer = setTimeout(() => this.campaign(), retryInMs);
  }

  private clearTimers(attempt: Attempt): void {
    clearTimeout(attempt.watchdog);
    clearInterval(attempt.checkTimer);
  }

  private setLeader(isLeader: boolean, reason: string): void {
    if (this.state.isLeader === isLeader) return;
    this.log.info({ isLeader, reason }, isLeader ? 'became leader' : 'stopped being leader');
    this.state.set(isLeader, (err) => this.log.error({ err }, 'leadership listener threw'));
  }
}

/** Rejects if `promise` has not settled after `ms` (the promise itself carries on). */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
