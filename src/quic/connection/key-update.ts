/**
 * When a connection updates its 1-RTT keys (RFC 9001 section 6) and when it must give up on them
 * (section 6.6): the packets sent in the current key phase, whether one of them was acknowledged (the
 * condition for starting the next update, section 6.1), the AEAD limits of the negotiated suite, and
 * the count of packets that failed authentication.
 *
 * The keys themselves change in keys.ts; the connection asks {@link KeyUpdatePolicy.check} before it
 * sends and acts on the answer.
 *
 * AEAD limits (RFC 9001 section 6.6): the confidentiality limit caps the packets one key may protect
 * ("Endpoints MUST initiate a key update before exceeding the confidentiality limit"), the integrity
 * limit caps the packets that fail authentication over the whole connection ("the endpoint MUST
 * immediately close the connection with a connection error of type AEAD_LIMIT_REACHED"). AES-GCM:
 * 2^23 packets and 2^52 failures; ChaCha20-Poly1305: no practical confidentiality limit ("greater than
 * the number of possible packets (2^62) and so can be disregarded") and 2^36 failures.
 */
import { UsageError } from '../../combinators/errors.js';
import type { CipherSuite } from '../crypto/provider.js';

/** The AEAD limits of one suite, in packets. */
export interface AeadLimits {
  /** Packets one key may protect (Infinity: no practical limit). */
  readonly confidentiality: number;
  /** Packets that may fail authentication over the connection's life. */
  readonly integrity: number;
}

/** RFC 9001 section 6.6 (and appendix B), per suite. */
export const AEAD_LIMITS: Readonly<Record<CipherSuite, AeadLimits>> = Object.freeze({
  TLS_AES_128_GCM_SHA256: { confidentiality: 2 ** 23, integrity: 2 ** 52 },
  TLS_AES_256_GCM_SHA384: { confidentiality: 2 ** 23, integrity: 2 ** 52 },
  TLS_CHACHA20_POLY1305_SHA256: { confidentiality: Infinity, integrity: 2 ** 36 },
});

/** Initial and Handshake packets use AES-128-GCM (RFC 9001 section 5): its limits apply before 1-RTT. */
const BEFORE_ONE_RTT: CipherSuite = 'TLS_AES_128_GCM_SHA256';

/** Options of the policy (the connection options `keyUpdateAfterPackets` and `aeadLimits`). */
export interface KeyUpdatePolicyOptions {
  /** Start an update once this many 1-RTT packets went out in the current phase (null: only for the AEAD limit). */
  readonly afterPackets: number | null;
  /** Lower limits than the RFC's (tests, extra caution); higher values are capped to the RFC's. */
  readonly limits?: Partial<AeadLimits>;
}

/** What {@link KeyUpdatePolicy.check} asks of the connection before it sends. */
export type KeyUpdateAction =
  /** Nothing to do. */
  | null
  /** Start a key update (if the update is not possible yet, ask again later). */
  | 'update'
  /** The confidentiality limit is about to be reached and no update was possible: close with AEAD_LIMIT_REACHED. */
  | 'limit';

export class KeyUpdatePolicy {
  private readonly afterPackets: number | null;
  private readonly overrides: Partial<AeadLimits>;
  private limitsValue: AeadLimits;
  /** Packets sent in a phase at which to update, and at which to give up (from the limits; see check). */
  private updateAt = Infinity;
  private closeAt = Infinity;
  /** First packet number of the current phase (null before 1-RTT keys). */
  private firstPn: number | null = null;
  private acked = false;
  private failures = 0;
  /** Phase changes so far (ours and the peer's). */
  updates = 0;

  constructor(options: KeyUpdatePolicyOptions) {
    const n = options.afterPackets;
    if (n !== null && (!Number.isInteger(n) || n < 1)) throw new UsageError(`keyUpdateAfterPackets ${n} must be a positive integer`);
    for (const [k, v] of Object.entries(options.limits ?? {})) {
      if (typeof v !== 'number' || !(v >= 1)) throw new UsageError(`aeadLimits.${k} ${String(v)} must be at least 1`);
    }
    this.afterPackets = n;
    this.overrides = options.limits ?? {};
    this.limitsValue = this.limitsOf(BEFORE_ONE_RTT);
  }

  /** The limits in force: the suite's, lowered by the options. */
  get limits(): AeadLimits {
    return this.limitsValue;
  }

  private limitsOf(suite: CipherSuite): AeadLimits {
    const rfc = AEAD_LIMITS[suite];
    return {
      confidentiality: Math.min(rfc.confidentiality, this.overrides.confidentiality ?? Infinity),
      integrity: Math.min(rfc.integrity, this.overrides.integrity ?? Infinity),
    };
  }

  /**
   * 1-RTT keys of `suite` are in use from packet number `firstPn` on (key phase 0). The thresholds of
   * {@link check} are fixed here: an update when seven eighths of the confidentiality limit are used
   * (or after `keyUpdateAfterPackets`), giving up at the limit less a reserve for CONNECTION_CLOSE.
   */
  start(suite: CipherSuite, firstPn: number): void {
    const limits = this.limitsOf(suite);
    this.limitsValue = limits;
    const c = limits.confidentiality;
    // ChaCha20-Poly1305 has no practical limit (Infinity): only keyUpdateAfterPackets applies.
    this.closeAt = c === Infinity ? Infinity : c - Math.max(1, Math.min(1000, Math.floor(c / 64)));
    const forLimit = c === Infinity ? Infinity : c - Math.max(1, Math.floor(c / 8));
    this.updateAt = Math.min(forLimit, this.afterPackets ?? Infinity);
    this.firstPn = firstPn;
    this.acked = false;
  }

  /** A new key phase starts at packet number `firstPn` (either side initiated it). */
  onPhaseChange(firstPn: number): void {
    this.firstPn = firstPn;
    this.acked = false;
    this.updates++;
  }

  /** An application-space packet was acknowledged. */
  onAcked(pn: number): void {
    if (this.firstPn !== null && pn >= this.firstPn) this.acked = true;
  }

  /**
   * RFC 9001 section 6.1: "An endpoint MUST NOT initiate a subsequent key update unless it has received
   * an acknowledgment for a packet that was sent protected with keys from the current key phase."
   */
  get currentPhaseAcked(): boolean {
    return this.acked;
  }

  /** Packets sent in the current phase when `nextPn` is the next packet number. */
  sentInPhase(nextPn: number): number {
    return this.firstPn === null ? 0 : nextPn - this.firstPn;
  }

  /**
   * Before sending, with `nextPn` the next application packet number: 'update' once the phase has
   * protected `keyUpdateAfterPackets` packets or comes near the confidentiality limit (seven eighths of
   * it), 'limit' when the last packets before the limit are reached (the remaining ones carry the
   * CONNECTION_CLOSE).
   */
  check(nextPn: number): KeyUpdateAction {
    const first = this.firstPn;
    if (first === null) return null;
    const sent = nextPn - first;
    if (sent < this.updateAt) return null;
    return sent >= this.closeAt ? 'limit' : 'update';
  }

  /** A received packet failed authentication; true when the integrity limit is reached (close with AEAD_LIMIT_REACHED). */
  onAuthenticationFailure(): boolean {
    this.failures++;
    return this.failures >= this.limitsValue.integrity;
  }

  /** Packets that failed authentication so far. */
  get authenticationFailures(): number {
    return this.failures;
  }
}
