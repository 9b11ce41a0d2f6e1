/**
 * Opt-in debugging output of a connection: TLS secrets in the NSS key log
 * format (so Wireshark/tshark can decrypt a capture), and qlog events (the
 * IETF qlog main schema with the QUIC event definitions: `transport:packet_sent`,
 * `transport:packet_received`, `recovery:metrics_updated`,
 * `connectivity:connection_state_updated`...). The connection only produces
 * the events; a driver writes them out (the Node adapter writes JSON-SEQ files).
 */
import type { Frame } from '../frame.js';

/** One qlog event: `time` in ms (the caller's clock), `name` as "category:event", `data` per the qlog QUIC schema. */
export interface QlogEvent {
  readonly time: number;
  readonly name: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Debug sinks given in the connection options. */
export interface TraceOptions {
  /** Receives one NSS key log line per secret (`CLIENT_HANDSHAKE_TRAFFIC_SECRET <client random> <secret>`, hex). */
  readonly keylog?: (line: string) => void;
  /** Receives qlog events. */
  readonly qlog?: (event: QlogEvent) => void;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/** The NSS key log label of a TLS 1.3 traffic secret. */
export function keylogLabel(level: 'early' | 'handshake' | 'application', sender: 'client' | 'server'): string {
  if (level === 'early') return 'CLIENT_EARLY_TRAFFIC_SECRET';
  if (level === 'handshake') return sender === 'client' ? 'CLIENT_HANDSHAKE_TRAFFIC_SECRET' : 'SERVER_HANDSHAKE_TRAFFIC_SECRET';
  return sender === 'client' ? 'CLIENT_TRAFFIC_SECRET_0' : 'SERVER_TRAFFIC_SECRET_0';
}

/** A frame as qlog's QuicFrame (type names in snake_case; payload bytes as lengths, never contents). */
export function qlogFrame(f: Frame): Record<string, unknown> {
  switch (f.type) {
    case 'padding':
      return { frame_type: 'padding', length: f.length };
    case 'ping':
      return { frame_type: 'ping' };
    case 'ack':
      return {
        frame_type: 'ack',
        ack_delay: f.ackDelay,
        acked_ranges: f.ranges.map(([a, b]) => [a, b]),
        ...(f.ecn === null ? {} : { ect0: f.ecn.ect0, ect1: f.ecn.ect1, ce: f.ecn.ce }),
      };
    case 'reset-stream':
      return { frame_type: 'reset_stream', stream_id: f.streamId, error_code: Number(f.errorCode), final_size: f.finalSize };
    case 'stop-sending':
      return { frame_type: 'stop_sending', stream_id: f.streamId, error_code: Number(f.errorCode) };
    case 'crypto':
      return { frame_type: 'crypto', offset: f.offset, length: f.data.length };
    case 'new-token':
      return { frame_type: 'new_token', token: { length: f.token.length } };
    case 'stream':
      return { frame_type: 'stream', stream_id: f.streamId, offset: f.offset, length: f.data.length, fin: f.fin };
    case 'max-data':
      return { frame_type: 'max_data', maximum: f.maximum };
    case 'max-stream-data':
      return { frame_type: 'max_stream_data', stream_id: f.streamId, maximum: f.maximum };
    case 'max-streams':
      return { frame_type: 'max_streams', stream_type: f.bidi ? 'bidirectional' : 'unidirectional', maximum: f.maximum };
    case 'data-blocked':
      return { frame_type: 'data_blocked', limit: f.limit };
    case 'stream-data-blocked':
      return { frame_type: 'stream_data_blocked', stream_id: f.streamId, limit: f.limit };
    case 'streams-blocked':
      return { frame_type: 'streams_blocked', stream_type: f.bidi ? 'bidirectional' : 'unidirectional', limit: f.limit };
    case 'new-connection-id':
      return {
        frame_type: 'new_connection_id',
        sequence_number: f.sequence,
        retire_prior_to: f.retirePriorTo,
        connection_id: toHex(f.connectionId),
        stateless_reset_token: toHex(f.statelessResetToken),
      };
    case 'retire-connection-id':
      return { frame_type: 'retire_connection_id', sequence_number: f.sequence };
    case 'path-challenge':
      return { frame_type: 'path_challenge', data: toHex(f.data) };
    case 'path-response':
      return { frame_type: 'path_response', data: toHex(f.data) };
    case 'connection-close':
      return {
        frame_type: 'connection_close',
        error_space: f.frameType === null ? 'application' : 'transport',
        error_code: Number(f.errorCode),
        ...(f.frameType === null ? {} : { trigger_frame_type: f.frameType }),
        reason: new TextDecoder().decode(f.reason),
      };
    case 'handshake-done':
      return { frame_type: 'handshake_done' };
    case 'datagram':
      return { frame_type: 'datagram', length: f.data.length };
    default: {
      const never: never = f;
      return { frame_type: 'unknown', value: String(never) };
    }
  }
}

/** qlog's packet_type names. */
export function qlogPacketType(type: 'initial' | 'handshake' | '0rtt' | '1rtt'): string {
  return type;
}
