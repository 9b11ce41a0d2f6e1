/**
 * Stream IDs (RFC 9000 section 2.1): the two least significant bits say who
 * opened the stream and in which directions it carries data.
 *
 * | bits | stream type                      |
 * | ---- | -------------------------------- |
 * | 0x00 | client-initiated, bidirectional  |
 * | 0x01 | server-initiated, bidirectional  |
 * | 0x02 | client-initiated, unidirectional |
 * | 0x03 | server-initiated, unidirectional |
 *
 * IDs of one type are used in increasing order, 4 apart; the n-th stream of a
 * type (counting from 0) has ID `4n + type`, so the MAX_STREAMS limit "n
 * streams" allows the IDs with index below n (section 4.6).
 *
 * IDs are numbers: the frame decoder already rejects IDs above 2^53 - 1 with
 * STREAM_LIMIT_ERROR (no endpoint here ever allows that many streams), so the
 * arithmetic below is exact. No bit operators: IDs exceed 2^31.
 */
import { TransportError } from '../errors.js';
import type { Role } from '../transport-params.js';

/** The four stream types of RFC 9000 section 2.1, Table 1. */
export type StreamType = 0 | 1 | 2 | 3;

/** The endpoint that opened the stream (bit 0x01). */
export function streamInitiator(id: number): Role {
  return id % 2 === 0 ? 'client' : 'server';
}

/** Bidirectional (bit 0x02 clear) or unidirectional. */
export function isBidirectional(id: number): boolean {
  return id % 4 < 2;
}

/** The low two bits: the stream's type (section 2.1). */
export function streamTypeOf(id: number): StreamType {
  return (id % 4) as StreamType;
}

/** The type of the streams `initiator` opens in these directions. */
export function streamType(initiator: Role, bidi: boolean): StreamType {
  return ((initiator === 'client' ? 0 : 1) + (bidi ? 0 : 2)) as StreamType;
}

/** The stream's position among the streams of its type: 0 for the first (IDs 0..3). */
export function streamIndex(id: number): number {
  return Math.floor(id / 4);
}

/** The ID of the `index`-th stream of `type`. */
export function streamIdOf(type: StreamType, index: number): number {
  return index * 4 + type;
}

/** True if `role` opened (or will open) this stream. */
export function isLocallyInitiated(id: number, role: Role): boolean {
  return streamInitiator(id) === role;
}

/**
 * True if `role` sends on this stream: every bidirectional stream, and the
 * unidirectional streams it opened (section 2.1: "a unidirectional stream
 * carries data in one direction: from the initiator of the stream to its peer").
 */
export function canSend(id: number, role: Role): boolean {
  return isBidirectional(id) || isLocallyInitiated(id, role);
}

/** True if `role` receives on this stream: every bidirectional stream, and the peer's unidirectional ones. */
export function canReceive(id: number, role: Role): boolean {
  return isBidirectional(id) || !isLocallyInitiated(id, role);
}

/**
 * Which part of a stream a received frame is about: the part that receives
 * (STREAM, RESET_STREAM and STREAM_DATA_BLOCKED come from the peer's sending
 * part) or the part that sends (STOP_SENDING and MAX_STREAM_DATA come from
 * the peer's receiving part).
 */
export type StreamPart = 'receive' | 'send';

/**
 * The checks every frame about a stream needs before any state is looked up,
 * raising STREAM_STATE_ERROR:
 *
 * - a frame for a part this endpoint does not have: STREAM / RESET_STREAM /
 *   STREAM_DATA_BLOCKED on a send-only stream ("An endpoint MUST terminate
 *   the connection with error STREAM_STATE_ERROR if it receives a STREAM frame
 *   for ... a send-only stream", section 19.8; likewise 19.4, 19.13), and
 *   STOP_SENDING / MAX_STREAM_DATA on a receive-only stream (19.5, 19.10);
 * - a frame for a stream this endpoint would open but has not opened yet
 *   (index >= `localOpened`, the number of streams of that type opened so
 *   far): sections 19.8, 19.5 and 19.10 say so for STREAM, STOP_SENDING and
 *   MAX_STREAM_DATA; the same reasoning applies to RESET_STREAM and
 *   STREAM_DATA_BLOCKED (the peer cannot know of a stream nobody opened), and
 *   STREAM_STATE_ERROR is the error the QUIC working group settled on for
 *   them (RFC 9000 errata discussion, 2022).
 *
 * Returns true if the stream is locally initiated. Stream limits for the
 * peer's streams (STREAM_LIMIT_ERROR) are checked by the caller, which owns
 * the counts ({@link RemoteStreamCredit} in flow.ts).
 */
export function checkIncomingStreamFrame(id: number, role: Role, part: StreamPart, localOpened: number, frameType: number): boolean {
  const local = isLocallyInitiated(id, role);
  if (part === 'receive' ? !canReceive(id, role) : !canSend(id, role)) {
    throw new TransportError(
      'STREAM_STATE_ERROR',
      `stream ${id} is ${part === 'receive' ? 'send' : 'receive'}-only for the ${role}, it cannot be about its ${part} part`,
      { frameType },
    );
  }
  if (local && streamIndex(id) >= localOpened) {
    throw new TransportError('STREAM_STATE_ERROR', `stream ${id} was not opened yet by the ${role}`, { frameType });
  }
  return local;
}
