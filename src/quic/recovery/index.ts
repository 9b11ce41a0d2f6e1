/**
 * QUIC loss recovery and congestion control (RFC 9002, RFC 9438), sans-I/O.
 * Explicit exports only (STYLE.md habit 15).
 */
export {
  decodeAckDelay,
  DEFAULT_MAX_ACK_DELAY_MS,
  GRANULARITY_MS,
  INITIAL_RTT_MS,
  PERSISTENT_CONGESTION_THRESHOLD,
  RttEstimator,
  TIME_THRESHOLD,
  type RttView,
} from './rtt.js';
export { SentPackets, type SentPacket } from './sent-packets.js';
export {
  LossDetector,
  MAX_PTO_BACKOFF_EXPONENT,
  PACKET_NUMBER_SPACES,
  PACKET_THRESHOLD,
  type AckInput,
  type AckOutcome,
  type LossDetectorOptions,
  type TimeoutOutcome,
} from './loss.js';
export {
  DEFAULT_MAX_DATAGRAM_SIZE,
  initialWindow,
  minimumWindow,
  WindowController,
  type CongestionCause,
  type CongestionController,
  type CongestionPacket,
  type WindowControllerOptions,
} from './congestion/controller.js';
export { LOSS_REDUCTION_FACTOR, NewReno } from './congestion/new-reno.js';
export { Cubic, CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, type CubicOptions } from './congestion/cubic.js';
export { DEFAULT_BURST_PACKETS, Pacer, type PacerOptions } from './pacer.js';
export { TimerTable } from './timers.js';
export { Recovery, type CongestionAlgorithm, type RecoveryOptions } from './recovery.js';
