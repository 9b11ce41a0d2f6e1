/**
 * Options of the Node QUIC adapter: the socket, a server (`listen`) and a
 * client connection (`connect`). Certificates and keys are the file
 * contents (PEM text or DER), as in `node:tls`; the CLI reads the files.
 */
import type { CryptoProvider, Signer } from '../crypto/provider.js';
import type { CommonConnectionOptions } from '../connection/options.js';
import type { EndpointClientOptions, EndpointServerOptions } from '../endpoint/endpoint.js';
import type { CertificateVerifier } from '../tls/client.js';
import type { TicketOptions } from '../tls/tickets.js';
import type { KeylogOption } from './keylog.js';
import type { QuicSocket } from './socket.js';
import type { StreamBufferOptions } from './streams.js';

/** The engine's transport settings the adapter passes through (see CommonConnectionOptions for each default). */
export type TransportOptions = Partial<
  Pick<
    CommonConnectionOptions,
    | 'idleTimeout'
    | 'keepAlive'
    | 'maxDatagramSize'
    | 'congestion'
    | 'initialWindow'
    | 'pacing'
    | 'maxAckDelay'
    | 'ackDelayExponent'
    | 'cipherSuites'
    | 'groups'
    | 'limits'
    | 'version'
  >
>;

/** Debug output, both opt-in. */
export interface DebugOptions {
  /** NSS key log (SSLKEYLOGFILE format) for Wireshark/tshark: a file to append to, or a function per line. */
  readonly keylog?: KeylogOption;
  /** Write one qlog file (JSON-SEQ, qlog 0.3, `.sqlog`) per connection into this folder (created if needed). */
  readonly qlogDir?: string;
}

/** The UDP socket and the endpoint on it. */
export interface SocketOptions {
  /** Address to bind (default 0.0.0.0, or :: for udp6). A ':' in it means IPv6. */
  readonly host?: string;
  /** Port to bind (default 0: any free port). */
  readonly port?: number;
  /** Socket type (default from `host`: udp6 when it contains ':'). */
  readonly type?: 'udp4' | 'udp6';
  /** udp6 only: do not accept IPv4 (default false: dual stack). */
  readonly ipv6Only?: boolean;
  /** SO_REUSEADDR (default false). */
  readonly reuseAddr?: boolean;
  /** SO_RCVBUF / SO_SNDBUF in bytes (default 4 MiB each; the kernel caps them at net.core.rmem_max / wmem_max). */
  readonly receiveBufferSize?: number;
  readonly sendBufferSize?: number;
  /** Crypto provider for every connection on the socket (default: the node:crypto provider). */
  readonly provider?: CryptoProvider;
  /** Length of the connection IDs we issue, 1..20 (default 8). */
  readonly connectionIdLength?: number;
  /** Send stateless resets for packets of unknown connections (default true). */
  readonly statelessReset?: boolean;
  /** 32-byte key for stateless reset tokens (keep it across restarts to reset old connections; default random). */
  readonly resetKey?: Uint8Array;
  /** How long a Retry token stays valid, ms (default 10 000). */
  readonly retryTokenLifetime?: number;
}

/** A server on a socket: certificate, ALPN, limits. */
export interface ServerOptions extends TransportOptions, StreamBufferOptions, DebugOptions {
  /** Certificate chain: PEM text (leaf first) or DER certificates. */
  readonly cert: string | Uint8Array | readonly Uint8Array[];
  /** Private key: PEM text or DER (PKCS#8, PKCS#1, SEC1), or a ready Signer. */
  readonly key: string | Uint8Array | Signer;
  /** Passphrase of an encrypted key. */
  readonly passphrase?: string;
  /** ALPN protocol ids accepted, in preference order (RFC 9001 section 8.1: required). */
  readonly alpn: string | readonly string[];
  /**
   * Issue session tickets and accept them for resumption: `key` is 32 secret bytes shared by every
   * server that should accept the tickets (see src/quic/tls/tickets.ts). Default: no tickets.
   */
  readonly tickets?: TicketOptions;
  /**
   * Accept 0-RTT data from resuming clients (needs `tickets`), or decide per connection. 0-RTT data
   * can be replayed: accept it only for idempotent requests, or use a SingleUseTicketCache.
   */
  readonly earlyData?: EndpointServerOptions['earlyData'];
  /** Answer every new client with Retry first to validate its address (RFC 9000 section 8.1.2; default false). */
  readonly validateAddress?: boolean;
  /** Most connections at once on the socket (default 10 000); new clients beyond it are dropped. */
  readonly maxConnections?: number;
  /** Advanced: options given to the engine's server connections as they are (after the ones above). */
  readonly engine?: Partial<EndpointServerOptions>;
}

/** `listen()`: a server on its own socket. */
export interface ListenOptions extends ServerOptions, SocketOptions {}

/** A client connection. */
export interface ClientOptions extends TransportOptions, StreamBufferOptions, DebugOptions {
  /** Server host name or address. */
  readonly host: string;
  readonly port: number;
  /** Name to verify the certificate against and send as SNI (default `host`). */
  readonly serverName?: string;
  /** ALPN protocol ids to offer, in order. */
  readonly alpn: string | readonly string[];
  /**
   * Trusted CA certificates (PEM text or DER); the server's chain must lead to one. Parsed once per
   * string or array object and cached: do not change an array's contents after passing it.
   */
  readonly ca?: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Accept any server certificate (tests and labs only). */
  readonly insecure?: boolean;
  /** Custom certificate check instead of `ca`. */
  readonly verifyCertificate?: CertificateVerifier;
  /** A NEW_TOKEN token of an earlier connection to this server (RFC 9000 section 8.1.3). */
  readonly token?: Uint8Array;
  /**
   * Resume a session: a ticket from an earlier connection's 'session-ticket' event (keep it like a
   * password: it holds the resumption secret). An expired or foreign ticket is ignored (full handshake).
   */
  readonly session?: Uint8Array;
  /**
   * With `session`: send 0-RTT data when the ticket allows it. `connect()` then resolves at once and
   * streams can be written before the handshake completes; `conn.handshake` resolves when it does and
   * `conn.earlyDataAccepted` says whether the server took the early data (if not, the engine resends it
   * in 1-RTT). 0-RTT data can be replayed by an attacker: send only idempotent requests in it.
   */
  readonly earlyData?: boolean;
  /** Give up the handshake after this many ms (default 10 000). */
  readonly handshakeTimeout?: number;
  /** Cancels the handshake. */
  readonly signal?: AbortSignal;
  /** Advanced: options given to the engine's client connection as they are (after the ones above). */
  readonly engine?: Partial<EndpointClientOptions>;
}

/** `connect()`: a client connection on a given socket, or on a new one of its own. */
export interface ConnectOptions extends ClientOptions {
  /** Share this socket (and its port) with other connections and a server; default: a new socket closed with the connection. */
  readonly socket?: QuicSocket;
  /** Local address to bind the new socket to (default 0.0.0.0 or ::, per the server's address family). */
  readonly localHost?: string;
  /** Local port of the new socket (default 0). */
  readonly localPort?: number;
}
