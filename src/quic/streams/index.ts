/**
 * QUIC streams and flow control (RFC 9000 sections 2, 3 and 4), as pure
 * state for the connection to drive: {@link StreamManager} per connection,
 * and the parts it is made of for tests and for other layers that need them
 * (stream-ID arithmetic, the flow-control counters).
 */
export { StreamManager } from './manager.js';
export type { StreamControlFrame, StreamEvent, StreamFrameRecord, StreamLimits, StreamManagerOptions, ProducedFrame } from './manager.js';
export { STREAM_ERROR_CODES, StreamError } from './errors.js';
export type { StreamErrorCode } from './errors.js';
export type { StreamRead, RecvState } from './recv.js';
export type { SendState } from './send.js';
export {
  canReceive,
  canSend,
  isBidirectional,
  isLocallyInitiated,
  streamIdOf,
  streamIndex,
  streamInitiator,
  streamType,
  streamTypeOf,
} from './stream-id.js';
export type { StreamType } from './stream-id.js';
