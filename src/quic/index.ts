/**
 * pullwire/quic: the QUIC v1/v2 wire format, with no connection state.
 * Frames (RFC 9000 section 19, RFC 9221), transport parameters (section 18),
 * packet headers, packet numbers and the packet builder (section 17),
 * packet protection (RFC 9001 section 5, RFC 9369), the per-datagram
 * receive/send pipelines, and the portable crypto provider on @noble/*.
 *
 * Portable: nothing here imports `node:*`. The faster provider on
 * `node:crypto` is in the separate entry `pullwire/quic/node`.
 */

// errors
export { TRANSPORT_ERRORS, TransportError, transportErrorName } from './errors.js';
export type { TransportErrorName, TransportErrorOptions } from './errors.js';

// frames
export {
  FRAME_TYPES,
  MAX_STREAMS_LIMIT,
  frameKindOf,
  frameAllowedIn,
  isAckEliciting,
  isCongestionControlled,
  isProbing,
  decodeFrames,
  encodeFrame,
  frameSize,
  frameTypeCode,
  streamFrameOverhead,
  streamDataCapacity,
  cryptoDataCapacity,
} from './frame.js';
export type {
  PacketType,
  FrameTypeInfo,
  FrameKind,
  Frame,
  FrameOf,
  EncodeFrameOptions,
  PaddingFrame,
  PingFrame,
  AckRange,
  EcnCounts,
  AckFrame,
  ResetStreamFrame,
  StopSendingFrame,
  CryptoFrame,
  NewTokenFrame,
  StreamFrame,
  MaxDataFrame,
  MaxStreamDataFrame,
  MaxStreamsFrame,
  DataBlockedFrame,
  StreamDataBlockedFrame,
  StreamsBlockedFrame,
  NewConnectionIdFrame,
  RetireConnectionIdFrame,
  PathChallengeFrame,
  PathResponseFrame,
  ConnectionCloseFrame,
  HandshakeDoneFrame,
  DatagramFrame,
} from './frame.js';

// transport parameters
export {
  TRANSPORT_PARAMETERS,
  defaultTransportParameters,
  decodeTransportParameters,
  encodeTransportParameters,
} from './transport-params.js';
export type {
  Role,
  TransportParameters,
  PreferredAddress,
  VersionInformation,
  RawTransportParameter,
  EncodeTransportParametersOptions,
} from './transport-params.js';

// packets
export {
  QUIC_V1,
  QUIC_V2,
  SUPPORTED_VERSIONS,
  LONG_PACKET_TYPE_BITS,
  MAX_CID_LENGTH,
  MIN_INITIAL_DATAGRAM_SIZE,
  decodePacketHeader,
  decodeDatagram,
  packetNumberLengthOf,
  keyPhaseOf,
  spinBitOf,
  checkReservedBits,
  readTruncatedPacketNumber,
  choosePacketNumberLength,
  truncatePacketNumber,
  encodePacketNumber,
  decodePacketNumber,
  encodeVersionNegotiation,
  encodeRetry,
  encodeRetryPseudoPacket,
  PacketBuilder,
} from './packet.js';
export type {
  LongPacketType,
  InitialPacketHeader,
  ZeroRttPacketHeader,
  HandshakePacketHeader,
  RetryPacketHeader,
  VersionNegotiationPacket,
  UnsupportedVersionPacket,
  ShortPacketHeader,
  PacketHeader,
  ProtectedPacketHeader,
  DecodePacketOptions,
  DecodedDatagram,
  VersionNegotiationFields,
  RetryFields,
  LongPacketFields,
  ShortPacketFields,
  BuiltPacket,
  BuiltDatagram,
  PacketBuilderOptions,
} from './packet.js';

// packet protection
export {
  isSupportedVersion,
  quicVersionParams,
  INITIAL_SUITE,
  initialSecrets,
  deriveKeys,
  nextGenerationSecret,
  createPacketKeys,
  nextPacketKeys,
  initialPacketKeys,
  protect,
  removeHeaderProtection,
  decryptPayload,
  unprotect,
  RETRY_INTEGRITY_TAG_LENGTH,
  retryIntegrityTag,
  verifyRetryIntegrity,
} from './packet-protection.js';
export type {
  QuicVersionParams,
  InitialSecrets,
  PacketKeyMaterial,
  ProtectionContexts,
  PacketKeys,
  HeaderProtectionResult,
  DecryptResult,
  UnprotectResult,
} from './packet-protection.js';

// receive and send pipelines
export { packetNumberSpaceOf, oneRttOpenKeys, PacketOpener, openDatagram, protectPacket, protectDatagram } from './packet-io.js';
export type {
  PacketNumberSpace,
  OneRttOpenKeys,
  OpenKeys,
  ProtectKeys,
  LargestPacketNumbers,
  OpenedPacket,
  InvalidPacket,
  DropReason,
  DroppedPacket,
  UnprotectedPacket,
  PacketResult,
  PacketOpenerOptions,
  OpenDatagramOptions,
} from './packet-io.js';

// crypto providers (the Node one: pullwire/quic/node)
export { CIPHER_SUITES, AEAD_TAG_LENGTH, HP_SAMPLE_LENGTH, HASH_LENGTH, hkdfExpandLabel, suiteInfo } from './crypto/provider.js';
export type {
  CipherSuite,
  CipherSuiteInfo,
  HashAlgorithm,
  PacketNumber,
  Aead,
  HeaderProtection,
  CryptoProvider,
  RandomSource,
} from './crypto/provider.js';
export { createNobleProvider, webCryptoRandom } from './crypto/noble.js';
export type { NobleProviderOptions } from './crypto/noble.js';

// connections and the endpoint (sans-I/O)
export { Connection, readFirstInitial } from './connection/connection.js';
export type { ConnectionState, ConnectionStats, CloseOptions, FirstInitial } from './connection/connection.js';
export { sameAddress, samePath } from './connection/events.js';
export type { StreamEvent } from './streams/manager.js';
export type {
  SocketAddress,
  Path,
  CloseInitiator,
  CloseReason,
  ConnectionEvent,
  NeedWriteDatagram,
  NeedReadDeadline,
  ConnectionEventResult,
  ConnectionDone,
  ConnectionPollResult,
} from './connection/events.js';
export type { ConnectionLimits, CommonConnectionOptions, ClientConnectionOptions, ServerConnectionOptions } from './connection/options.js';
export type { QlogEvent, TraceOptions } from './connection/trace.js';
export { Endpoint } from './endpoint/endpoint.js';
export type {
  EndpointOptions,
  EndpointServerOptions,
  EndpointClientOptions,
  EndpointPollResult,
  EndpointStats,
} from './endpoint/endpoint.js';
export { TEST_CERTIFICATE } from './testing.js';
