/**
 * QUIC transport parameters (RFC 9000 sections 7.4 and 18; max_datagram_frame_size
 * from RFC 9221 section 3; version_information from RFC 9368 section 3;
 * grease_quic_bit from RFC 9287 section 3).
 *
 * One table, {@link TRANSPORT_PARAMETERS}, lists every parameter with its id,
 * wire name, codec (which carries the value's limits), default and which
 * role may send it; the {@link TransportParameters} type, the defaults, the
 * decoder and the encoder all derive from it.
 *
 * Integer values follow frame.ts's rule for limits the peer gives us: exact
 * up to 2^53 - 1, saturated above (RFC 9001 A.2's client sends
 * initial_max_data = 2^62 - 1), after the RFC's own ceilings are checked
 * exactly (initial_max_streams_* <= 2^60).
 */
import { EncodeError } from '../combinators/errors.js';
import { u16be, u32be } from '../combinators/primitives.js';
import { Source } from '../combinators/source.js';
import type { Writer } from '../combinators/writer.js';
import { toTransportError, TransportError } from './errors.js';
import { MAX_STREAMS_LIMIT, need, readBytes, readU62, readU8 } from './frame.js';

/** The endpoint that sent (or will send) a set of transport parameters. */
export type Role = 'client' | 'server';

/** How one parameter's value is read from and written to its bytes. */
interface Codec<T> {
  /** Decodes the whole value (exactly `value.length` bytes); raises TransportError or ParseError. */
  decode(value: Uint8Array, name: string): T;
  /** Writes the value; raises EncodeError for a value the parameter does not allow. */
  encode(w: Writer, v: T, name: string): void;
}

interface ParamSpec<T, D> {
  readonly id: number;
  /** The RFC's name, e.g. `max_udp_payload_size`. */
  readonly name: string;
  readonly codec: Codec<T>;
  /** Value when absent (RFC 9000 section 18.2: 0 unless stated). */
  readonly default: D;
  /** `server`: "A client MUST NOT include any server-only transport parameter" (section 18.2). */
  readonly sender: 'any' | 'server';
}

const param = <T, D>(id: number, name: string, codec: Codec<T>, dflt: D, sender: 'any' | 'server' = 'any'): ParamSpec<T, D> => ({
  id,
  name,
  codec,
  default: dflt,
  sender,
});

function invalid(name: string, detail: string): never {
  throw new TransportError('TRANSPORT_PARAMETER_ERROR', `${name}: ${detail}`);
}

/** Runs `read` over the whole value and checks nothing is left. */
function whole<T>(value: Uint8Array, name: string, read: (s: Source) => T): T {
  const s = Source.complete(value);
  const v = read(s);
  if (s.buffered !== 0) invalid(name, `${s.buffered} bytes after the value`);
  return v;
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** An integer parameter (a varint) with optional bounds; saturates above 2^53 - 1. */
function integer(bounds: { readonly min?: number; readonly max?: number | bigint } = {}): Codec<number> {
  const min = bounds.min ?? 0;
  const max = bounds.max;
  return {
    decode(value, name) {
      const v = whole(value, name, readU62);
      if (max !== undefined && v > max) invalid(name, `${v} > ${max}`);
      if (v < min) invalid(name, `${v} < ${min}`);
      return typeof v === 'bigint' ? MAX_SAFE : v;
    },
    encode(w, v, name) {
      if (v < min || (max !== undefined && v > max)) throw new EncodeError('ERR_ENCODE_RANGE', `${name}: ${v} outside its allowed range`);
      w.varint(v);
    },
  };
}

/** A connection ID: 0 to 20 bytes (RFC 9000 section 17.2). */
const connectionId: Codec<Uint8Array> = {
  decode(value, name) {
    if (value.length > 20) invalid(name, `connection ID of ${value.length} bytes`);
    return value;
  },
  encode(w, v, name) {
    if (v.length > 20) throw new EncodeError('ERR_ENCODE_RANGE', `${name}: connection ID of ${v.length} bytes`);
    w.bytes(v);
  },
};

/** Exactly 16 bytes (stateless_reset_token). */
const resetToken: Codec<Uint8Array> = {
  decode(value, name) {
    if (value.length !== 16) invalid(name, `${value.length} bytes, not 16`);
    return value;
  },
  encode(w, v, name) {
    if (v.length !== 16) throw new EncodeError('ERR_ENCODE_RANGE', `${name}: ${v.length} bytes, not 16`);
    w.bytes(v);
  },
};

/** A zero-length value whose presence means true. */
const flag: Codec<boolean> = {
  decode(value, name) {
    if (value.length !== 0) invalid(name, `${value.length} bytes in a zero-length parameter`);
    return true;
  },
  encode() {
    // present, empty
  },
};

/** preferred_address (RFC 9000 section 18.2, Figure 22). */
export interface PreferredAddress {
  /** 4 bytes, network order; all zero (with port 0) when not offered. */
  readonly ipv4Address: Uint8Array;
  readonly ipv4Port: number;
  /** 16 bytes, network order; all zero (with port 0) when not offered. */
  readonly ipv6Address: Uint8Array;
  readonly ipv6Port: number;
  /** 1 to 20 bytes: "a server MUST NOT include a zero-length connection ID in this transport parameter". */
  readonly connectionId: Uint8Array;
  readonly statelessResetToken: Uint8Array;
}

const preferredAddress: Codec<PreferredAddress> = {
  decode(value, name) {
    return whole(value, name, (s) => {
      const ipv4Address = readBytes(s, 4, 'IPv4 Address');
      const ipv4Port = need(u16be.readFast(s), s, 'IPv4 Port');
      const ipv6Address = readBytes(s, 16, 'IPv6 Address');
      const ipv6Port = need(u16be.readFast(s), s, 'IPv6 Port');
      const len = readU8(s);
      // Section 18.2: a zero-length connection ID here is a TRANSPORT_PARAMETER_ERROR; v1 caps them at 20.
      if (len < 1 || len > 20) invalid(name, `connection ID length ${len} outside 1..20`);
      const connectionId = readBytes(s, len, 'Connection ID');
      const statelessResetToken = readBytes(s, 16, 'Stateless Reset Token');
      return { ipv4Address, ipv4Port, ipv6Address, ipv6Port, connectionId, statelessResetToken };
    });
  },
  encode(w, v, name) {
    const cid = v.connectionId;
    if (
      v.ipv4Address.length !== 4 ||
      v.ipv6Address.length !== 16 ||
      v.statelessResetToken.length !== 16 ||
      cid.length < 1 ||
      cid.length > 20
    ) {
      throw new EncodeError('ERR_ENCODE_RANGE', `${name}: field of the wrong size`);
    }
    w.bytes(v.ipv4Address).u16be(v.ipv4Port).bytes(v.ipv6Address).u16be(v.ipv6Port).u8(cid.length).bytes(cid).bytes(v.statelessResetToken);
  },
};

/** version_information (RFC 9368 section 3). */
export interface VersionInformation {
  readonly chosenVersion: number;
  /** Versions the sender supports, in its order of preference (may be empty for a client). */
  readonly availableVersions: readonly number[];
}

const versionInformation: Codec<VersionInformation> = {
  decode(value, name) {
    // RFC 9368 section 3: a length that is not a positive multiple of 4, or a zero version, is a parsing failure.
    if (value.length < 4 || value.length % 4 !== 0) invalid(name, `${value.length} bytes is not a list of versions`);
    return whole(value, name, (s) => {
      const chosenVersion = need(u32be.readFast(s), s, 'Chosen Version');
      if (chosenVersion === 0) invalid(name, 'Chosen Version 0');
      const availableVersions: number[] = [];
      while (s.buffered > 0) {
        const v = need(u32be.readFast(s), s, 'Available Version');
        if (v === 0) invalid(name, 'Available Version 0');
        availableVersions.push(v);
      }
      return { chosenVersion, availableVersions };
    });
  },
  encode(w, v, name) {
    if (v.chosenVersion === 0 || v.availableVersions.includes(0)) throw new EncodeError('ERR_ENCODE_RANGE', `${name}: version 0`);
    w.u32be(v.chosenVersion);
    for (const a of v.availableVersions) w.u32be(a);
  },
};

/**
 * Every transport parameter this implementation knows (RFC 9000 section
 * 18.2 unless noted). Keys are the camelCase property names of
 * {@link TransportParameters}.
 */
export const TRANSPORT_PARAMETERS = {
  originalDestinationConnectionId: param(0x00, 'original_destination_connection_id', connectionId, null, 'server'),
  /** Milliseconds; 0 = no idle timeout. */
  maxIdleTimeout: param(0x01, 'max_idle_timeout', integer(), 0),
  statelessResetToken: param(0x02, 'stateless_reset_token', resetToken, null, 'server'),
  /** "Values below 1200 are invalid." */
  maxUdpPayloadSize: param(0x03, 'max_udp_payload_size', integer({ min: 1200 }), 65527),
  initialMaxData: param(0x04, 'initial_max_data', integer(), 0),
  initialMaxStreamDataBidiLocal: param(0x05, 'initial_max_stream_data_bidi_local', integer(), 0),
  initialMaxStreamDataBidiRemote: param(0x06, 'initial_max_stream_data_bidi_remote', integer(), 0),
  initialMaxStreamDataUni: param(0x07, 'initial_max_stream_data_uni', integer(), 0),
  /** At most 2^60 (section 4.6: larger "MUST be treated as a connection error of type TRANSPORT_PARAMETER_ERROR"). */
  initialMaxStreamsBidi: param(0x08, 'initial_max_streams_bidi', integer({ max: MAX_STREAMS_LIMIT }), 0),
  initialMaxStreamsUni: param(0x09, 'initial_max_streams_uni', integer({ max: MAX_STREAMS_LIMIT }), 0),
  /** "Values above 20 are invalid." */
  ackDelayExponent: param(0x0a, 'ack_delay_exponent', integer({ max: 20 }), 3),
  /** Milliseconds; "Values of 2^14 or greater are invalid." */
  maxAckDelay: param(0x0b, 'max_ack_delay', integer({ max: 2 ** 14 - 1 }), 25),
  disableActiveMigration: param(0x0c, 'disable_active_migration', flag, false),
  preferredAddress: param(0x0d, 'preferred_address', preferredAddress, null, 'server'),
  /** "MUST be at least 2." */
  activeConnectionIdLimit: param(0x0e, 'active_connection_id_limit', integer({ min: 2 }), 2),
  initialSourceConnectionId: param(0x0f, 'initial_source_connection_id', connectionId, null),
  retrySourceConnectionId: param(0x10, 'retry_source_connection_id', connectionId, null, 'server'),
  /** RFC 9368 section 3. */
  versionInformation: param(0x11, 'version_information', versionInformation, null),
  /** RFC 9221 section 3: 0 (the default) means DATAGRAM frames are not supported. */
  maxDatagramFrameSize: param(0x20, 'max_datagram_frame_size', integer(), 0),
  /** RFC 9287 section 3: the sender accepts packets with the fixed bit cleared. */
  greaseQuicBit: param(0x2ab2, 'grease_quic_bit', flag, false),
} as const;

type Table = typeof TRANSPORT_PARAMETERS;
type ParamKey = keyof Table;
type ValueOfSpec<P> = P extends ParamSpec<infer T, infer D> ? T | D : never;

/** Decoded transport parameters: every known parameter, its default when absent. */
export type TransportParameters = { readonly [K in ParamKey]: ValueOfSpec<Table[K]> };

const KEYS = Object.keys(TRANSPORT_PARAMETERS) as ParamKey[];
const spec = (k: ParamKey): ParamSpec<unknown, unknown> => TRANSPORT_PARAMETERS[k] as ParamSpec<unknown, unknown>;
const KEY_BY_ID = new Map<number | bigint, ParamKey>(KEYS.map((k) => [spec(k).id, k]));

/** The value of every parameter when absent. */
export function defaultTransportParameters(): TransportParameters {
  const out: Record<string, unknown> = {};
  for (const k of KEYS) out[k] = spec(k).default;
  return out as TransportParameters;
}

/**
 * Decodes the quic_transport_parameters extension sent by `sender` (RFC
 * 9000 section 18). Unknown parameters (including the reserved 31 * N + 27
 * ones) are ignored. Everything else wrong is a {@link TransportError}
 * TRANSPORT_PARAMETER_ERROR (sections 7.4 and 18.2): malformed encoding, a
 * value outside its limits, a parameter sent twice ("An endpoint SHOULD
 * treat receipt of duplicate transport parameters as a connection error"), a
 * server-only parameter from a client, and a missing mandatory one
 * (initial_source_connection_id from either side, and
 * original_destination_connection_id from a server, section 7.3). Matching
 * the connection IDs against the packets is the connection's job.
 * Byte values are views into `bytes`.
 */
export function decodeTransportParameters(bytes: Uint8Array, sender: Role): TransportParameters {
  const out = defaultTransportParameters() as Record<string, unknown>;
  const seen = new Set<number | bigint>();
  const s = Source.complete(bytes);
  try {
    while (s.buffered > 0) {
      const id = readU62(s);
      const value = readBytes(s, readU62(s), 'transport parameter value');
      if (seen.has(id)) invalid(`parameter 0x${id.toString(16)}`, 'sent twice');
      seen.add(id);
      const key = KEY_BY_ID.get(id);
      if (key === undefined) continue;
      const p = spec(key);
      if (p.sender === 'server' && sender === 'client') invalid(p.name, 'server-only parameter sent by a client');
      out[key] = p.codec.decode(value, p.name);
    }
  } catch (e) {
    throw toTransportError(e, 'TRANSPORT_PARAMETER_ERROR', null);
  }
  if (out.initialSourceConnectionId === null) invalid('initial_source_connection_id', 'missing');
  if (sender === 'server' && out.originalDestinationConnectionId === null) invalid('original_destination_connection_id', 'missing');
  return out as TransportParameters;
}

/** A parameter this module does not know, written as-is (e.g. a reserved 31 * N + 27 one, RFC 9000 section 18.1). */
export interface RawTransportParameter {
  readonly id: number | bigint;
  readonly value: Uint8Array;
}

export interface EncodeTransportParametersOptions {
  /** Written after the known parameters, in order. */
  readonly extra?: readonly RawTransportParameter[];
}

/**
 * Writes the parameters `sender` sends: every parameter of `params` whose
 * value differs from its default, in table order, each with a minimal
 * Length. Raises EncodeError for a value outside its limits or a server-only
 * parameter in a client's set.
 */
export function encodeTransportParameters(
  w: Writer,
  params: Partial<TransportParameters>,
  sender: Role,
  options: EncodeTransportParametersOptions = {},
): void {
  for (const k of KEYS) {
    const p = spec(k);
    const v = (params as Record<string, unknown>)[k];
    if (v === undefined || v === p.default) continue;
    if (p.sender === 'server' && sender === 'client') throw new EncodeError('ERR_ENCODE_RANGE', `${p.name} is server-only`);
    w.varint(p.id);
    const m = w.beginLength('varint', { width: 1, minimal: true });
    p.codec.encode(w, v, p.name);
    w.endLength(m);
  }
  for (const x of options.extra ?? []) {
    if (KEY_BY_ID.has(typeof x.id === 'bigint' && x.id <= BigInt(MAX_SAFE) ? Number(x.id) : x.id)) {
      throw new EncodeError('ERR_ENCODE_RANGE', `extra parameter 0x${x.id.toString(16)} is a known parameter`);
    }
    w.varint(x.id).varint(x.value.length).bytes(x.value);
  }
}
