/**
 * 0-RTT at the connection level (RFC 9001 section 4.6, RFC 9000 section 7.4.1): the server transport
 * parameters a client remembers with a session ticket, the copy a server seals into its tickets (and
 * the TLS server options that do it, {@link serverEarlyData}), the checks both make when 0-RTT is
 * accepted, and the client's record of what it wrote in 0-RTT so that a rejected attempt can be
 * replayed in 1-RTT ({@link EarlyDataJournal}).
 *
 * Remembered parameters (RFC 9000 section 7.4.1): "A client MUST NOT use remembered values for the
 * following parameters: ack_delay_exponent, max_ack_delay, initial_source_connection_id,
 * original_destination_connection_id, preferred_address, retry_source_connection_id, and
 * stateless_reset_token"; it "MUST remember all other transport parameters used by the server that it
 * is able to process". {@link RememberedParameters} is that set (plus max_datagram_frame_size, RFC 9221
 * section 3), stored in a small versioned record: the client keeps it in its session ticket's
 * application data, the server seals the same record into the tickets it issues (RFC 9001 section 4.6.3:
 * "store an integrity-protected copy of the values in the ticket") and compares it with its current
 * parameters before accepting 0-RTT.
 *
 * Layout of the record: format u8 (= 1), then as QUIC varints max_idle_timeout, max_udp_payload_size,
 * initial_max_data, initial_max_stream_data_bidi_local, initial_max_stream_data_bidi_remote,
 * initial_max_stream_data_uni, initial_max_streams_bidi, initial_max_streams_uni,
 * active_connection_id_limit, max_datagram_frame_size, and a flags u8 (bit 0 disable_active_migration,
 * bit 1 grease_quic_bit). A server's ticket data is format u8 (= 1), the record's length u16, the
 * record, then the application's own ticket data.
 *
 * Portable: no `node:*` import.
 */
import { PullwireError, UsageError } from '../../combinators/errors.js';
import { gen, parse } from '../../combinators/parser.js';
import { bytes, u16be, u8, varint } from '../../combinators/primitives.js';
import { Writer } from '../../combinators/writer.js';
import type { TlsServerOptions } from '../tls/server.js';
import { QUIC_MAX_EARLY_DATA } from '../tls/session.js';
import type { EarlyDataInfo } from '../tls/tickets.js';
import { decodeTransportParameters, type TransportParameters } from '../transport-params.js';
import type { ServerConnectionOptions } from './options.js';

/** The server transport parameters that apply to 0-RTT (RFC 9000 section 7.4.1; RFC 9221 section 3). */
export type RememberedParameters = Pick<
  TransportParameters,
  | 'maxIdleTimeout'
  | 'maxUdpPayloadSize'
  | 'initialMaxData'
  | 'initialMaxStreamDataBidiLocal'
  | 'initialMaxStreamDataBidiRemote'
  | 'initialMaxStreamDataUni'
  | 'initialMaxStreamsBidi'
  | 'initialMaxStreamsUni'
  | 'activeConnectionIdLimit'
  | 'maxDatagramFrameSize'
  | 'disableActiveMigration'
  | 'greaseQuicBit'
>;

/** The remembered subset of a full set of transport parameters. */
export function rememberedFrom(tp: TransportParameters): RememberedParameters {
  return {
    maxIdleTimeout: tp.maxIdleTimeout,
    maxUdpPayloadSize: tp.maxUdpPayloadSize,
    initialMaxData: tp.initialMaxData,
    initialMaxStreamDataBidiLocal: tp.initialMaxStreamDataBidiLocal,
    initialMaxStreamDataBidiRemote: tp.initialMaxStreamDataBidiRemote,
    initialMaxStreamDataUni: tp.initialMaxStreamDataUni,
    initialMaxStreamsBidi: tp.initialMaxStreamsBidi,
    initialMaxStreamsUni: tp.initialMaxStreamsUni,
    activeConnectionIdLimit: tp.activeConnectionIdLimit,
    maxDatagramFrameSize: tp.maxDatagramFrameSize,
    disableActiveMigration: tp.disableActiveMigration,
    greaseQuicBit: tp.greaseQuicBit,
  };
}

// ---------------------------------------------------------------------------------------------------
// errors

/** Codes of {@link EarlyDataError}. */
export const EARLY_DATA_ERROR_CODES = {
  ERR_EARLY_DATA_FORMAT: 'the stored 0-RTT parameters were written in a format version this code does not read',
  ERR_EARLY_DATA_MALFORMED: 'the bytes are not stored 0-RTT parameters (truncated, corrupted, or a value out of range)',
} as const;

export type EarlyDataErrorCode = keyof typeof EARLY_DATA_ERROR_CODES;

/** {@link decodeRememberedParameters} or {@link decodeServerTicketData} refused their input. */
export class EarlyDataError extends PullwireError {
  declare readonly code: EarlyDataErrorCode;
  constructor(code: EarlyDataErrorCode, detail: string) {
    super(code, `${EARLY_DATA_ERROR_CODES[code]}: ${detail}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// the record

const FORMAT = 1;
const EMPTY = new Uint8Array(0);
const FLAG_DISABLE_MIGRATION = 0x01;
const FLAG_GREASE_QUIC_BIT = 0x02;
/** RFC 9000 section 4.6: stream limits above 2^60 are invalid. */
const MAX_STREAMS = 2 ** 60;

/** Writes the record (see the module doc) into `w`. */
function writeRecord(w: Writer, p: RememberedParameters): void {
  w.u8(FORMAT);
  for (const v of [
    p.maxIdleTimeout,
    p.maxUdpPayloadSize,
    p.initialMaxData,
    p.initialMaxStreamDataBidiLocal,
    p.initialMaxStreamDataBidiRemote,
    p.initialMaxStreamDataUni,
    p.initialMaxStreamsBidi,
    p.initialMaxStreamsUni,
    p.activeConnectionIdLimit,
    p.maxDatagramFrameSize,
  ]) {
    if (!Number.isSafeInteger(v) || v < 0) throw new UsageError(`a remembered transport parameter is not a varint: ${v}`);
    w.varint(v);
  }
  w.u8((p.disableActiveMigration ? FLAG_DISABLE_MIGRATION : 0) | (p.greaseQuicBit ? FLAG_GREASE_QUIC_BIT : 0));
}

/** The record after its format byte. */
const recordBody = gen('RememberedParameters', function* () {
  const maxIdleTimeout = yield* varint;
  const maxUdpPayloadSize = yield* varint;
  const initialMaxData = yield* varint;
  const initialMaxStreamDataBidiLocal = yield* varint;
  const initialMaxStreamDataBidiRemote = yield* varint;
  const initialMaxStreamDataUni = yield* varint;
  const initialMaxStreamsBidi = yield* varint;
  const initialMaxStreamsUni = yield* varint;
  const activeConnectionIdLimit = yield* varint;
  const maxDatagramFrameSize = yield* varint;
  const flags = yield* u8;
  return {
    maxIdleTimeout,
    maxUdpPayloadSize,
    initialMaxData,
    initialMaxStreamDataBidiLocal,
    initialMaxStreamDataBidiRemote,
    initialMaxStreamDataUni,
    initialMaxStreamsBidi,
    initialMaxStreamsUni,
    activeConnectionIdLimit,
    maxDatagramFrameSize,
    flags,
  };
});

function malformed(detail: string): never {
  throw new EarlyDataError('ERR_EARLY_DATA_MALFORMED', detail);
}

/** Parses a whole record (format byte included), converting the codec's errors. */
function readRecord(input: Uint8Array): RememberedParameters {
  if (input.length === 0) malformed('empty input');
  if (input[0] !== FORMAT) throw new EarlyDataError('ERR_EARLY_DATA_FORMAT', `format ${input[0]}`);
  let v;
  try {
    v = parse(recordBody, input.subarray(1));
  } catch (e) {
    if (e instanceof PullwireError && !(e instanceof UsageError)) return malformed(e.message);
    throw e;
  }
  // The limits of RFC 9000 section 18.2 (and 4.6 for stream counts): a record that breaks them was not written by us.
  if (v.maxUdpPayloadSize < 1200) malformed(`max_udp_payload_size ${v.maxUdpPayloadSize} < 1200`);
  if (v.activeConnectionIdLimit < 2) malformed(`active_connection_id_limit ${v.activeConnectionIdLimit} < 2`);
  if (v.initialMaxStreamsBidi > MAX_STREAMS || v.initialMaxStreamsUni > MAX_STREAMS) malformed('a stream limit above 2^60');
  if ((v.flags & ~(FLAG_DISABLE_MIGRATION | FLAG_GREASE_QUIC_BIT)) !== 0) malformed(`unknown flags 0x${v.flags.toString(16)}`);
  const { flags, ...numbers } = v;
  return {
    ...numbers,
    disableActiveMigration: (flags & FLAG_DISABLE_MIGRATION) !== 0,
    greaseQuicBit: (flags & FLAG_GREASE_QUIC_BIT) !== 0,
  };
}

/** Encodes the parameters a client keeps with a session ticket (see the module doc for the layout). */
export function encodeRememberedParameters(p: RememberedParameters): Uint8Array {
  const w = new Writer({ initialSize: 64 });
  writeRecord(w, p);
  return w.toBytes();
}

/**
 * Decodes what {@link encodeRememberedParameters} wrote. Raises an {@link EarlyDataError}:
 * `ERR_EARLY_DATA_FORMAT` for another format version (a ticket stored by another version of this
 * code), `ERR_EARLY_DATA_MALFORMED` for anything else that is wrong (truncated, trailing bytes, a value
 * outside its RFC 9000 section 18.2 limits).
 */
export function decodeRememberedParameters(input: Uint8Array): RememberedParameters {
  return readRecord(input);
}

/** What a server seals into its tickets: its 0-RTT parameters, then the application's ticket data. */
export interface ServerTicketData {
  readonly parameters: RememberedParameters;
  readonly applicationData: Uint8Array;
}

/** Encodes a server's ticket data (format u8, record length u16, record, application data). */
export function encodeServerTicketData(d: ServerTicketData): Uint8Array {
  const w = new Writer({ initialSize: 64 + d.applicationData.length });
  w.u8(FORMAT);
  const mark = w.beginLength('u16be');
  writeRecord(w, d.parameters);
  w.endLength(mark);
  w.bytes(d.applicationData);
  return w.toBytes();
}

const serverTicketBody = gen('ServerTicketData', function* () {
  const length = yield* u16be;
  const record = yield* bytes(length);
  return record;
});

/**
 * Decodes what {@link encodeServerTicketData} wrote (the application data is a view of `input`).
 * Raises an {@link EarlyDataError} like {@link decodeRememberedParameters}.
 */
export function decodeServerTicketData(input: Uint8Array): ServerTicketData {
  if (input.length === 0) malformed('empty input');
  if (input[0] !== FORMAT) throw new EarlyDataError('ERR_EARLY_DATA_FORMAT', `format ${input[0]}`);
  let record: Uint8Array;
  try {
    record = parse(serverTicketBody, input.subarray(1), { allowTrailing: true });
  } catch (e) {
    if (e instanceof PullwireError && !(e instanceof UsageError)) return malformed(e.message);
    throw e;
  }
  return { parameters: readRecord(record), applicationData: input.subarray(3 + record.length) };
}

// ---------------------------------------------------------------------------------------------------
// checks

/** Parameters whose value may not go down while 0-RTT is accepted (RFC 9000 section 7.4.1, RFC 9221 section 3). */
const NOT_REDUCED = [
  ['activeConnectionIdLimit', 'active_connection_id_limit'],
  ['initialMaxData', 'initial_max_data'],
  ['initialMaxStreamDataBidiLocal', 'initial_max_stream_data_bidi_local'],
  ['initialMaxStreamDataBidiRemote', 'initial_max_stream_data_bidi_remote'],
  ['initialMaxStreamDataUni', 'initial_max_stream_data_uni'],
  ['initialMaxStreamsBidi', 'initial_max_streams_bidi'],
  ['initialMaxStreamsUni', 'initial_max_streams_uni'],
  ['maxDatagramFrameSize', 'max_datagram_frame_size'],
] as const;

/**
 * The name of the first parameter whose `current` value is below the `remembered` one, among those
 * RFC 9000 section 7.4.1 lists ("a server that accepts 0-RTT data MUST NOT set values for the following
 * parameters ... that are smaller than the remembered values": active_connection_id_limit,
 * initial_max_data, initial_max_stream_data_*, initial_max_streams_*) and max_datagram_frame_size
 * (RFC 9221 section 3: the client "MUST validate that the new value ... is greater than or equal to the
 * stored value"). Null when none is.
 */
export function reducedParameter(remembered: RememberedParameters, current: RememberedParameters): string | null {
  for (const [key, name] of NOT_REDUCED) if (current[key] < remembered[key]) return name;
  return null;
}

/**
 * Whether a server may accept 0-RTT for a ticket that remembered `remembered`, given its `current`
 * parameters: none of {@link reducedParameter}'s is reduced, and, as RFC 9000 section 7.4.1 allows ("A
 * server MAY store and recover the previously sent values of the max_idle_timeout,
 * max_udp_payload_size, and disable_active_migration parameters and reject 0-RTT if it selects smaller
 * values"), neither is the idle timeout (0 = none, the largest), the UDP payload limit, nor is migration
 * newly disabled. The name of the parameter that forbids it, or null.
 */
export function serverRejectsFor(remembered: RememberedParameters, current: RememberedParameters): string | null {
  const reduced = reducedParameter(remembered, current);
  if (reduced !== null) return reduced;
  const idle = (ms: number): number => (ms === 0 ? Infinity : ms);
  if (idle(current.maxIdleTimeout) < idle(remembered.maxIdleTimeout)) return 'max_idle_timeout';
  if (current.maxUdpPayloadSize < remembered.maxUdpPayloadSize) return 'max_udp_payload_size';
  if (current.disableActiveMigration && !remembered.disableActiveMigration) return 'disable_active_migration';
  return null;
}

// ---------------------------------------------------------------------------------------------------
// the server's TLS options

/**
 * The TLS server's ticket and 0-RTT options for a connection whose transport parameters are `tp`
 * (encoded): tickets carry our remembered parameters next to the application's data (RFC 9001 section
 * 4.6.3), and 0-RTT is accepted only when they are not above ours (RFC 9000 section 7.4.1) and the
 * application's `earlyData` option agrees.
 */
export function serverEarlyData(options: ServerConnectionOptions, tp: Uint8Array): Pick<TlsServerOptions, 'tickets' | 'earlyData'> {
  const tickets = options.tickets;
  if (tickets === undefined) return { earlyData: false };
  const policy = options.earlyData ?? false;
  const ours = rememberedFrom(decodeTransportParameters(tp, 'server'));
  const appData = tickets.applicationData ?? EMPTY;
  return {
    tickets: {
      ...tickets,
      applicationData: encodeServerTicketData({ parameters: ours, applicationData: appData }),
      // RFC 9001 section 4.6.1: tickets advertise 0-RTT with max_early_data_size 0xffffffff.
      maxEarlyData: tickets.maxEarlyData ?? (policy === false ? 0 : QUIC_MAX_EARLY_DATA),
    },
    earlyData: (info: EarlyDataInfo): boolean => {
      if (policy === false) return false;
      let sealed;
      try {
        sealed = decodeServerTicketData(info.applicationData);
      } catch (e) {
        if (e instanceof EarlyDataError) return false;
        throw e;
      }
      // "A server MUST reject 0-RTT data if the restored values for transport parameters cannot be supported" (RFC 9000 section 7.4.1).
      if (serverRejectsFor(sealed.parameters, ours) !== null) return false;
      return policy === true || policy({ ...info, applicationData: sealed.applicationData });
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// the client's journal

/** What {@link EarlyDataJournal.replay} needs of a stream manager (StreamManager fits). */
export interface ReplayTarget {
  openStream(bidi: boolean): number | null;
  write(id: number, data: Uint8Array): number;
  finish(id: number): void;
  resetStream(id: number, errorCode: bigint): void;
  stopSending(id: number, errorCode: bigint): void;
}

interface JournalStream {
  readonly id: number;
  readonly bidi: boolean;
  readonly chunks: Uint8Array[];
  /** Bytes in `chunks`. */
  held: number;
  finished: boolean;
  reset: bigint | null;
  stopSending: bigint | null;
}

/**
 * The streams a client opened while its 0-RTT attempt was undecided, and what the application did on
 * them (copies of every byte written). RFC 9001 section 4.6.2: when the server rejects 0-RTT "the
 * client therefore MUST reset the state of all streams": the connection starts a fresh stream state
 * under the parameters of the handshake and replays the journal onto it, so the data goes again, in
 * 1-RTT, on streams with the same IDs. The journal is dropped once 0-RTT is accepted. Until a stream is
 * replayed, the application's commands on it go to the journal ({@link write}, {@link finished}...).
 */
export class EarlyDataJournal {
  /** Insertion order is opening order, per direction the order of the stream IDs. */
  private readonly entries = new Map<number, JournalStream>();

  /** Stream IDs still in the journal, in opening order. */
  get streamIds(): number[] {
    return [...this.entries.keys()];
  }

  get isEmpty(): boolean {
    return this.entries.size === 0;
  }

  has(id: number): boolean {
    return this.entries.has(id);
  }

  /** Whether a stream of this direction waits to be replayed (new streams must wait behind it). */
  waiting(bidi: boolean): boolean {
    for (const e of this.entries.values()) if (e.bidi === bidi) return true;
    return false;
  }

  opened(id: number, bidi: boolean): void {
    this.entries.set(id, { id, bidi, chunks: [], held: 0, finished: false, reset: null, stopSending: null });
  }

  /** The stream manager took these bytes: keep a copy. */
  wrote(id: number, data: Uint8Array): void {
    const e = this.entries.get(id);
    if (e === undefined || data.length === 0 || e.reset !== null) return;
    e.chunks.push(data.slice());
    e.held += data.length;
  }

  /** Bytes {@link write} takes now on a stream waiting for its replay: what a send buffer of `bufferSize` would. */
  writable(id: number, bufferSize: number): number {
    const e = this.entries.get(id);
    if (e === undefined || e.finished || e.reset !== null) return 0;
    return Math.max(0, bufferSize - e.held);
  }

  /** A write on a stream waiting for its replay; returns the bytes taken (at most {@link writable}). */
  write(id: number, data: Uint8Array, bufferSize: number): number {
    const n = Math.min(data.length, this.writable(id, bufferSize));
    if (n > 0) this.wrote(id, data.subarray(0, n));
    return n;
  }

  finished(id: number): void {
    const e = this.entries.get(id);
    if (e !== undefined) e.finished = true;
  }

  reset(id: number, errorCode: bigint): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    e.reset ??= errorCode;
    e.chunks.length = 0;
    e.held = 0;
  }

  stopSending(id: number, errorCode: bigint): void {
    const e = this.entries.get(id);
    if (e !== undefined) e.stopSending ??= errorCode;
  }

  /**
   * Replays the journal onto `target` in opening order: open (the same ID must come back), write,
   * finish, reset, stop sending. Replayed streams leave the journal; their IDs are returned. Stops at a
   * stream `target` cannot open yet (the handshake's stream limit is below the remembered one): call
   * again when the limit rises ({@link isEmpty} says whether anything is left).
   */
  replay(target: ReplayTarget): number[] {
    const replayed: number[] = [];
    for (const e of this.entries.values()) {
      const id = target.openStream(e.bidi);
      if (id === null) break;
      if (id !== e.id) throw new UsageError(`0-RTT replay opened stream ${id} instead of ${e.id}`);
      this.entries.delete(e.id);
      replayed.push(id);
      if (e.reset !== null) {
        target.resetStream(id, e.reset);
      } else {
        for (const chunk of e.chunks) {
          // A fresh stream's send buffer is as large as the one that took these bytes (nothing was acknowledged).
          if (target.write(id, chunk) !== chunk.length) throw new UsageError(`0-RTT replay could not write stream ${id}`);
        }
        if (e.finished) target.finish(id);
      }
      if (e.stopSending !== null) target.stopSending(id, e.stopSending);
    }
    return replayed;
  }
}
