/**
 * What the client and server state machines share: the sans-I/O surface (bytes in per encryption
 * level, a queue of outputs), the per-level framers, and the failure latch.
 *
 * QUIC carries the handshake in CRYPTO frames at three levels (RFC 9001 section 4.1.4): Initial
 * (ClientHello, ServerHello), Handshake (EncryptedExtensions ... Finished) and 1-RTT (post-handshake
 * messages such as NewSessionTicket). The QUIC layer feeds each level's CRYPTO stream, in order, to
 * {@link HandshakeMachine.receive} and drains {@link HandshakeMachine.takeOutputs}.
 *
 * Time is an input (DESIGN.md): the machines never read a clock. Session tickets need one (a ticket's
 * age, lifetime and expiry, RFC 8446 sections 4.6.1 and 8.3), so `receive` (and the client's `start`)
 * take an optional `now`, milliseconds on the caller's clock, default 0. Pass the same clock to every
 * call of one machine; when tickets outlive the process (stored by the application, or a server key
 * shared by several processes), that clock must outlive it too: use wall-clock time (`Date.now()`)
 * there, not `performance.now()`. Handshakes without tickets ignore `now`.
 */
import { UsageError } from '../../combinators/errors.js';
import type { CipherSuite, NamedGroup } from '../crypto/provider.js';
import { TlsAlertError, toTlsAlert } from './errors.js';
import { HandshakeFramer, type FramedMessage } from './framer.js';
import { decodeHandshake, type HandshakeMessage } from './messages.js';
import type { SessionTicket } from './session.js';

/** A QUIC encryption level that carries CRYPTO data (0-RTT carries none, RFC 9001 section 4.1.4). */
export type EncryptionLevel = 'initial' | 'handshake' | 'application';

/** What a state machine asks the QUIC layer to do, in order. */
export type HandshakeOutput =
  /** Send `data` in CRYPTO frames at `level`. */
  | { readonly type: 'send'; readonly level: EncryptionLevel; readonly data: Uint8Array }
  /**
   * Install packet protection for `level` and `direction` from this traffic secret (RFC 9001 section
   * 5.1). Level 'early' is 0-RTT (RFC 9001 section 4.6.1): client_early_traffic_secret, written by
   * the client (emitted right after a ClientHello that offers early data) and read by the server (when
   * it accepts early data). 0-RTT packets carry no CRYPTO frames, so 'early' is only a key level.
   */
  | {
      readonly type: 'keys';
      readonly level: 'early' | 'handshake' | 'application';
      readonly direction: 'read' | 'write';
      readonly suite: CipherSuite;
      readonly secret: Uint8Array;
    }
  /** The negotiated application protocol (RFC 7301; mandatory in QUIC, RFC 9001 section 8.1). */
  | { readonly type: 'alpn'; readonly protocol: string }
  /** The peer's quic_transport_parameters extension body, for the QUIC layer to decode (RFC 9001 section 8.2). */
  | { readonly type: 'peer-transport-parameters'; readonly bytes: Uint8Array }
  /**
   * Whether the server accepts the 0-RTT data the client offered (RFC 9001 section 4.6.2): the client
   * learns it from EncryptedExtensions (or from a HelloRetryRequest, which always rejects it); the
   * server emits it when it decides, while processing the ClientHello. Emitted only when the client
   * offered early data. On `accepted: false` the client must forget what it assumed for 0-RTT and
   * resend its 0-RTT data in 1-RTT packets; the server must not process 0-RTT packets.
   */
  | { readonly type: 'early-data'; readonly accepted: boolean }
  /**
   * A NewSessionTicket arrived after the handshake (client only, RFC 8446 section 4.6.1): a session to
   * offer in a later handshake (the client option `session`). Its `applicationData` is empty: the
   * QUIC layer fills it (with the server's transport parameters, RFC 9000 section 7.4.1) before
   * storing it.
   */
  | { readonly type: 'session-ticket'; readonly session: SessionTicket }
  /**
   * The handshake is complete (RFC 9001 section 4.1.1). `resumed`: the server accepted a session
   * ticket (PSK with (EC)DHE, RFC 8446 section 2.2), so no certificate was exchanged in this handshake.
   */
  | { readonly type: 'complete'; readonly resumed: boolean };

/** Suites both roles offer or accept by default, in preference order. */
export const DEFAULT_SUITES: readonly CipherSuite[] = ['TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_256_GCM_SHA384'];
/** Key exchange groups both roles use by default, in preference order. */
export const DEFAULT_GROUPS: readonly NamedGroup[] = ['x25519', 'secp256r1'];

const ASCII = new TextEncoder();
const FROM_ASCII = new TextDecoder();

/** ALPN protocol ids as wire bytes. */
export function alpnBytes(protocols: readonly string[]): Uint8Array[] {
  return protocols.map((p) => ASCII.encode(p));
}

export function alpnString(protocol: Uint8Array): string {
  return FROM_ASCII.decode(protocol);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The common engine: frames each level's bytes into messages and hands them, decoded, to
 * {@link HandshakeMachine.handle}, which the role implements. After the first alert every call raises
 * the same {@link TlsAlertError}: the connection is dead (RFC 8446 section 6.2, fatal alerts).
 */
export abstract class HandshakeMachine<S extends string> {
  private stateValue: S;
  private failure: TlsAlertError | null = null;
  private outputs: HandshakeOutput[] = [];
  private readonly framers: Record<EncryptionLevel, HandshakeFramer> = {
    initial: new HandshakeFramer(),
    handshake: new HandshakeFramer(),
    application: new HandshakeFramer(),
  };
  /** Finished length check once the hash is known. */
  protected hashLength: number | undefined;
  /** The caller's time of the current call, in ms (see the module doc); 0 when not given. */
  protected now = 0;

  protected constructor(initial: S) {
    this.stateValue = initial;
  }

  /** The current state, named after the message expected next. */
  get state(): S {
    return this.stateValue;
  }

  /** The alert the handshake failed with, or null. */
  get error(): TlsAlertError | null {
    return this.failure;
  }

  /**
   * CRYPTO stream bytes received at `level`, in stream order. Raises a {@link TlsAlertError} (and keeps
   * raising it) when the peer breaks the protocol; outputs produced before the failure stay queued.
   *
   * @param now the caller's time in ms (default 0), used for session ticket ages and lifetimes (see
   *   the module doc).
   */
  receive(level: EncryptionLevel, data: Uint8Array, now = 0): void {
    this.setNow(now);
    this.guard(() => {
      const framer = this.framers[level];
      for (const m of framer.push(data)) this.dispatch(level, m);
      // RFC 8446 section 5.1: a message must not span a key change. Once this level is left, a partial
      // message here can never be completed.
      if (this.expectedLevel() !== level) framer.checkBoundary();
    });
  }

  /** Removes and returns the outputs queued so far. */
  takeOutputs(): HandshakeOutput[] {
    const out = this.outputs;
    this.outputs = [];
    return out;
  }

  /** Runs `step`, converting what it raises into the alert to report and latching it. */
  protected guard(step: () => void): void {
    if (this.failure !== null) throw this.failure;
    try {
      step();
    } catch (e) {
      this.failure = toTlsAlert(e, `in state ${this.stateValue}`);
      throw this.failure;
    }
  }

  /** Records the caller's time for this call. */
  protected setNow(now: number): void {
    if (!Number.isFinite(now)) throw new UsageError(`now must be a finite number of milliseconds, got ${now}`);
    this.now = now;
  }

  protected emit(o: HandshakeOutput): void {
    this.outputs.push(o);
  }

  /** The one place the state changes. */
  protected transition(next: S): void {
    this.stateValue = next;
  }

  /** The level the next expected message must arrive at (null when nothing more is expected). */
  protected abstract expectedLevel(): EncryptionLevel | null;

  /** Handles one decoded message in the current state. */
  protected abstract handle(message: HandshakeMessage, raw: Uint8Array): void;

  private dispatch(level: EncryptionLevel, m: FramedMessage): void {
    const message = decodeHandshake(m.bytes, this.hashLength === undefined ? {} : { hashLength: this.hashLength });
    // RFC 9001 section 4.1.3 / 4.1.4: each message belongs to one level; one at another level is as
    // unexpected as a message out of order.
    if (this.expectedLevel() !== level) {
      throw new TlsAlertError('unexpected_message', `${message.type} at level ${level} in state ${this.stateValue}`);
    }
    this.handle(message, m.bytes);
  }

  /** The alert for a message the current state does not expect (RFC 8446 section 6.2). */
  protected unexpected(message: HandshakeMessage): never {
    throw new TlsAlertError('unexpected_message', `${message.type} in state ${this.stateValue}`);
  }
}
