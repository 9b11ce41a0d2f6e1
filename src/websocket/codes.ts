/**
 * The two code spaces of RFC 6455, each as one table from which the rest is
 * derived: frame opcodes (section 5.2, registry in section 11.8) and close
 * status codes (sections 7.4.1 and 7.4.2, plus the later IANA registrations).
 */

/**
 * Frame opcodes (RFC 6455 section 5.2). 0x3-0x7 are reserved for further
 * non-control frames and 0xB-0xF for further control frames: receiving one
 * fails the connection (section 5.2, "MUST _Fail the WebSocket Connection_").
 */
export const OPCODES = {
  continuation: { code: 0x0, control: false, meaning: 'a continuation frame of a fragmented message' },
  text: { code: 0x1, control: false, meaning: 'the first frame of a text message (UTF-8)' },
  binary: { code: 0x2, control: false, meaning: 'the first frame of a binary message' },
  close: { code: 0x8, control: true, meaning: 'starts or answers the closing handshake (section 5.5.1)' },
  ping: { code: 0x9, control: true, meaning: 'a ping; the peer answers with a pong carrying the same data (section 5.5.2)' },
  pong: { code: 0xa, control: true, meaning: 'a pong: an answer to a ping, or an unsolicited heartbeat (section 5.5.3)' },
} as const;

export type OpcodeName = keyof typeof OPCODES;
/** A defined opcode value. */
export type Opcode = (typeof OPCODES)[OpcodeName]['code'];

export const OP_CONTINUATION = OPCODES.continuation.code;
export const OP_TEXT = OPCODES.text.code;
export const OP_BINARY = OPCODES.binary.code;
export const OP_CLOSE = OPCODES.close.code;
export const OP_PING = OPCODES.ping.code;
export const OP_PONG = OPCODES.pong.code;

/** Opcode value → name, undefined for the reserved values. */
export const OPCODE_NAMES: readonly (OpcodeName | undefined)[] = (() => {
  const names: (OpcodeName | undefined)[] = new Array<OpcodeName | undefined>(16).fill(undefined);
  for (const [name, v] of Object.entries(OPCODES)) names[v.code] = name as OpcodeName;
  return names;
})();

/** True for the six opcodes RFC 6455 defines. */
export function isDefinedOpcode(op: number): op is Opcode {
  return op >= 0 && op < 16 && OPCODE_NAMES[op] !== undefined;
}

/** Control frames have the high bit of the opcode set (RFC 6455 section 5.5). */
export function isControlOpcode(op: number): boolean {
  return (op & 0x8) !== 0;
}

/**
 * Close status codes (RFC 6455 section 7.4.1; 1012-1014 were registered
 * later in the IANA "WebSocket Close Code Number Registry"). `wire` is false
 * for the codes that only name a local condition and "MUST NOT be set as a
 * status code in a Close control frame" (section 7.4.1: 1005, 1006, 1015;
 * 1004 is reserved).
 */
export const CLOSE_CODES = {
  NORMAL_CLOSURE: { code: 1000, wire: true, meaning: 'normal closure: the purpose of the connection was fulfilled' },
  GOING_AWAY: { code: 1001, wire: true, meaning: 'going away: a server going down or a browser leaving the page' },
  PROTOCOL_ERROR: { code: 1002, wire: true, meaning: 'protocol error' },
  UNSUPPORTED_DATA: { code: 1003, wire: true, meaning: 'a type of data the endpoint cannot accept (e.g. binary to a text-only endpoint)' },
  RESERVED: { code: 1004, wire: false, meaning: 'reserved; the meaning might be defined in the future' },
  NO_STATUS_RECEIVED: { code: 1005, wire: false, meaning: 'the close frame carried no status code (local report only)' },
  ABNORMAL_CLOSURE: { code: 1006, wire: false, meaning: 'the connection closed without a close frame (local report only)' },
  INVALID_PAYLOAD_DATA: {
    code: 1007,
    wire: true,
    meaning: 'data inconsistent with the message type (e.g. invalid UTF-8 in a text message)',
  },
  POLICY_VIOLATION: { code: 1008, wire: true, meaning: 'a message violates the endpoint’s policy' },
  MESSAGE_TOO_BIG: { code: 1009, wire: true, meaning: 'a message too big to process' },
  MANDATORY_EXTENSION: { code: 1010, wire: true, meaning: 'the client expected the server to negotiate an extension it did not' },
  INTERNAL_ERROR: { code: 1011, wire: true, meaning: 'the server met an unexpected condition' },
  SERVICE_RESTART: { code: 1012, wire: true, meaning: 'the service is restarting (IANA registry)' },
  TRY_AGAIN_LATER: { code: 1013, wire: true, meaning: 'try again later: a temporary condition (IANA registry)' },
  BAD_GATEWAY: { code: 1014, wire: true, meaning: 'a gateway or proxy got an invalid response upstream (IANA registry)' },
  TLS_HANDSHAKE: { code: 1015, wire: false, meaning: 'the TLS handshake failed (local report only)' },
} as const;

export type CloseCodeName = keyof typeof CLOSE_CODES;

/** The ranges of RFC 6455 section 7.4.2. Inside 1000-2999 only the codes of {@link CLOSE_CODES} with `wire` are valid. */
export const CLOSE_CODE_RANGES = [
  { from: 0, to: 999, wire: false, meaning: 'not used' },
  { from: 1000, to: 2999, wire: 'registered', meaning: 'reserved for this protocol, its revisions and extensions' },
  { from: 3000, to: 3999, wire: true, meaning: 'registered with IANA for libraries, frameworks and applications' },
  { from: 4000, to: 4999, wire: true, meaning: 'private use' },
] as const;

const WIRE_CODES: ReadonlySet<number> = new Set(
  Object.values(CLOSE_CODES)
    .filter((c) => c.wire)
    .map((c) => c.code),
);

/**
 * True when `code` may appear in a close frame, sent or received: a wire code
 * of {@link CLOSE_CODES}, or 3000-4999. Anything else received fails the
 * connection with 1002 (RFC 6455 section 7.4.2 / 7.1.5).
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 3000 && code <= 4999) || WIRE_CODES.has(code);
}

/** The table entry's name for a code, if it has one (for logs). */
export function closeCodeName(code: number): CloseCodeName | undefined {
  for (const [name, c] of Object.entries(CLOSE_CODES)) if (c.code === code) return name as CloseCodeName;
  return undefined;
}
