/**
 * pullwire/miniproto: protocols as chains of mini-protocols (phases) over one
 * shared input Source, with one driver contract (need-read / need-write /
 * event / switched / done / error).
 */
export { Session, phase } from './session.js';
export type {
  Phase,
  PhaseGen,
  PhaseIO,
  PhaseOp,
  PhaseOptions,
  PhaseOutput,
  PollResult,
  NeedRead,
  NeedWrite,
  EventResult,
  Switched,
  Done,
  ErrorResult,
  SessionOptions,
} from './session.js';
export { lines, lengthRecords, handshake, encodeLine, encodeLengthRecord } from './records.js';
export type {
  RecordEvent,
  RecordNext,
  RecordPhaseOptions,
  LinesOptions,
  LengthRecordsOptions,
  HandshakeOptions,
  HandshakeOutcome,
} from './records.js';
export { decimalLine, decimalLineBig, crlf, textLine } from './text.js';
export type { DecimalLineOptions, TextLineOptions } from './text.js';
export { runSync, runOnBytes } from './drivers.js';
export type { SyncIO } from './drivers.js';
export { runWebStreams } from './web-streams.js';
export type { WebStreamsOptions, WebStreamPair, WebStreamsOutcome } from './web-streams.js';
export {
  parseRequestHead,
  parseResponseHead,
  writeRequestHead,
  writeResponseHead,
  encodeRequestHead,
  encodeResponseHead,
  encodeChunk,
  encodeLastChunk,
  responseFraming,
  readBody,
  bodyPhase,
  headerValue,
  headerValues,
  headerTokens,
  HttpError,
  HTTP_ERROR_CODES,
} from './http1.js';
export type {
  Header,
  BodyFraming,
  RequestHead,
  ResponseHead,
  HeadOptions,
  BodyOptions,
  HttpBody,
  BodyEvent,
  HttpErrorCode,
} from './http1.js';
export { ProtocolError, MINIPROTO_ERROR_CODES, isSessionError, handshakeRejected } from './errors.js';
export type { SessionError, MiniprotoErrorCode } from './errors.js';
