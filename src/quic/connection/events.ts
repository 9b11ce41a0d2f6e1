/**
 * What a QUIC {@link Connection} reports to its driver: the results of `poll`
 * (NEED_WRITE, an event, NEED_READ with the next deadline, done) and the
 * events, a discriminated union documented per field (STYLE.md habit 9).
 *
 * Addresses are plain data: the connection never resolves or opens anything,
 * it only compares them (a datagram from a new address is a new path) and
 * says where each datagram goes.
 */
import type { StreamEvent } from '../streams/manager.js';
import type { TransportParameters } from '../transport-params.js';
import type { PathChangeReason } from './paths.js';
import type { EcnMark } from './ack-tracker.js';

export type { EcnMark };

/** A UDP address as the driver's socket reports it. */
export interface SocketAddress {
  /** IPv4 dotted quad, IPv6 text form, or any name the driver understands (the simulator uses its own). */
  readonly address: string;
  readonly port: number;
}

/**
 * A network path: our local address and the peer's (RFC 9000 section 9: "the
 * 4-tuple"). `local` may be a placeholder when the driver has one socket and
 * does not know its address; it only has to stay the same for the same path.
 */
export interface Path {
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
}

/** True when two addresses are the same (string and port equal). */
export function sameAddress(a: SocketAddress, b: SocketAddress): boolean {
  return a.port === b.port && a.address === b.address;
}

/** True when two paths are the same 4-tuple. */
export function samePath(a: Path, b: Path): boolean {
  return sameAddress(a.local, b.local) && sameAddress(a.remote, b.remote);
}

/** Which side ended the connection. */
export type CloseInitiator = 'local' | 'peer' | 'idle-timeout' | 'stateless-reset';

/**
 * Why a connection ended. `kind` says which code space `code` is in:
 * transport error codes (RFC 9000 section 20.1, CONNECTION_CLOSE type 0x1c,
 * including CRYPTO_ERROR 0x100 + TLS alert) or the application protocol's
 * codes (type 0x1d).
 */
export interface CloseReason {
  readonly kind: 'transport' | 'application';
  /** The error code on the wire (0 = NO_ERROR for transport). */
  readonly code: bigint;
  /** The transport error's name when `kind` is 'transport' and the code is known (e.g. 'FLOW_CONTROL_ERROR'). */
  readonly name: string | null;
  /** Frame type that triggered a transport error (0 or null when none). */
  readonly frameType: number | null;
  /** Reason phrase (UTF-8 decoded, lossy). */
  readonly reason: string;
  readonly initiator: CloseInitiator;
}

/**
 * Events of a connection, in the order they happened: the stream events of
 * {@link StreamEvent} (stream-opened, stream-readable, stream-writable,
 * stream-finished, stream-reset, stream-stop-sending, stream-closed,
 * streams-available; documented there), and these.
 */
export type ConnectionEvent =
  | StreamEvent
  /**
   * The handshake completed (RFC 9001 section 4.1.1): 1-RTT keys are in use.
   * `alpn` is the negotiated application protocol; `peerParameters` the
   * peer's validated transport parameters; `resumed` whether a session
   * ticket was used; `earlyDataAccepted` whether the server accepted 0-RTT
   * (always false on a connection that did not attempt it). A client whose
   * 0-RTT was rejected has already sent its 0-RTT stream data again in 1-RTT
   * on the same stream IDs (RFC 9001 section 4.6.2; the client option
   * `earlyData`), unless the server chose another ALPN protocol: then those
   * streams got `stream-closed` before this event.
   */
  | {
      readonly type: 'handshake-completed';
      readonly alpn: string;
      readonly peerParameters: TransportParameters;
      readonly resumed: boolean;
      readonly earlyDataAccepted: boolean;
    }
  /** The handshake is confirmed (RFC 9001 section 4.1.2): the client got HANDSHAKE_DONE, or the server completed. */
  | { readonly type: 'handshake-confirmed' }
  /**
   * The connection now sends on `path` (RFC 9000 section 9): `reason` 'rebinding' (the peer's address
   * changed without probing first, as through a NAT), 'migration' (the peer probed the path first, or
   * our own `migrate` command completed), 'preferred-address' (the client moved to the server's
   * preferred_address, section 9.6) or 'revert' (validation of the new path failed: back to the last
   * validated one, section 9.3.2). Later `need-write` results carry the new path.
   */
  | { readonly type: 'path-changed'; readonly path: Path; readonly reason: PathChangeReason }
  /** A PATH_RESPONSE answered our PATH_CHALLENGE: the peer is reachable on `path` (RFC 9000 section 8.2). */
  | { readonly type: 'path-validated'; readonly path: Path }
  /** Validation of `path` was abandoned after three PTOs without a PATH_RESPONSE (RFC 9000 section 8.2.4). */
  | { readonly type: 'path-failed'; readonly path: Path }
  /** A DATAGRAM frame arrived (RFC 9221). `data` is owned by the receiver. */
  | { readonly type: 'datagram'; readonly data: Uint8Array }
  /**
   * A session ticket arrived (client): keep `ticket` (opaque bytes, safe to
   * store) to resume with `ConnectionOptions.session`. `maxEarlyData` > 0
   * when it allows 0-RTT.
   */
  | { readonly type: 'session-ticket'; readonly ticket: Uint8Array; readonly maxEarlyData: number }
  /**
   * The connection ended (it may still linger in the closing or draining
   * state for three PTOs to absorb the peer's packets, sending nothing but
   * CONNECTION_CLOSE; poll returns `done` when it is gone).
   */
  | { readonly type: 'closed'; readonly reason: CloseReason };

/** A datagram to send: NEED_WRITE. */
export interface NeedWriteDatagram {
  readonly type: 'need-write';
  /**
   * The datagram. Owned by the caller until the next call into the
   * connection (it may be a view of a buffer the connection reuses): send
   * it, or copy it, before calling again.
   */
  readonly datagram: Uint8Array;
  /** Where it goes (and from which local address). */
  readonly path: Path;
  /**
   * The ECN codepoint to set in the IP header (RFC 9000 section 13.4): 'ect0' while the path is tested
   * or validated for ECN, else 'not-ect'. A driver that cannot set it sends Not-ECT (see the `ecn` option).
   */
  readonly ecn: EcnMark;
}

/** Nothing to send now: call `receive` when a datagram arrives, or `poll` again at `deadline` (null: no timer). */
export interface NeedReadDeadline {
  readonly type: 'need-read';
  readonly deadline: number | null;
}

/** An event happened. */
export interface ConnectionEventResult {
  readonly type: 'event';
  readonly event: ConnectionEvent;
}

/** The connection is over (closed and, where required, drained): forget it. */
export interface ConnectionDone {
  readonly type: 'done';
}

/** One result of `Connection.poll`. */
export type ConnectionPollResult = NeedWriteDatagram | ConnectionEventResult | NeedReadDeadline | ConnectionDone;
