/**
 * The streaming handshake-message framer: cuts the CRYPTO stream of one encryption level into whole
 * handshake messages (RFC 9001 section 4.1.3: CRYPTO frames carry the handshake as a byte stream,
 * without TLS records). A message may arrive split across any number of CRYPTO frames and packets, and
 * one frame may carry several messages; the framer does not care where the cuts are.
 *
 * It runs on the combinators' {@link Decoder}: each message is `msg_type (1) || length (3) || body`
 * (RFC 8446 section 4). The length is checked against `maxMessageSize` as soon as the 4-byte header is
 * in, before any of the body is waited for, so a peer cannot make us buffer a 16 MiB "message".
 *
 * One framer per encryption level (Initial, Handshake, 1-RTT): the QUIC layer hands each level's
 * CRYPTO data, in stream order, to that level's framer. When the keys change, a partial message left
 * at the old level is an error ({@link HandshakeFramer.checkBoundary}).
 */
import { Decoder, NEED_READ, END, gen } from '../../combinators/parser.js';
import { bytes, peek } from '../../combinators/primitives.js';
import { HANDSHAKE_HEADER_LENGTH } from './messages.js';
import { TlsAlertError, toTlsAlert } from './errors.js';

/** One whole handshake message as it was on the wire. */
export interface FramedMessage {
  /** The HandshakeType code (not checked here: the decoder refuses unknown and forbidden types). */
  readonly msgType: number;
  /**
   * The whole message, header included: what goes into the transcript hash. An owned copy: it does not
   * alias the fed chunks, which the QUIC layer may reuse once a packet is processed.
   */
  readonly bytes: Uint8Array;
  /** The body: a view of `bytes` after the 4-byte header. */
  readonly body: Uint8Array;
}

export interface HandshakeFramerOptions {
  /**
   * Largest message body accepted, in bytes. Default 64 KiB: a handshake message is at most a few
   * KiB except Certificate, and certificate chains seen in practice stay far below that (TLS stacks cap
   * it similarly: OpenSSL's default max_cert_list is 100 KiB). A larger length field raises an
   * `illegal_parameter` alert, the answer OpenSSL and BoringSSL give to an excessive message size.
   */
  readonly maxMessageSize?: number;
}

const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024;
/** The handshake length field is 24 bits (RFC 8446 section 4). */
const MAX_WIRE_LENGTH = 0xffffff;
const HEADER = peek(bytes(HANDSHAKE_HEADER_LENGTH));

/**
 * Frames handshake messages out of one level's CRYPTO stream.
 *
 * ```ts
 * const framer = new HandshakeFramer();
 * for (const m of framer.push(cryptoFrameData)) handle(decodeHandshake(m.bytes), m.bytes);
 * ```
 *
 * After an error every call raises the same {@link TlsAlertError}.
 */
export class HandshakeFramer {
  readonly maxMessageSize: number;
  private readonly decoder: Decoder<FramedMessage>;
  private failure: TlsAlertError | null = null;

  constructor(options: HandshakeFramerOptions = {}) {
    const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (!Number.isInteger(max) || max < 0 || max > MAX_WIRE_LENGTH)
      throw new TlsAlertError('internal_error', `maxMessageSize ${max} outside 0..2^24-1`);
    this.maxMessageSize = max;
    const frame = gen('handshake message', function* () {
      const header = yield* HEADER;
      const length = (header[1]! << 16) | (header[2]! << 8) | header[3]!;
      if (length > max) {
        throw new TlsAlertError('illegal_parameter', `handshake message type ${header[0]} of ${length} bytes, at most ${max} accepted`);
      }
      // Always copy: the bytes outlive the chunks they came in (transcript, certificates, tickets).
      const whole = (yield* bytes(HANDSHAKE_HEADER_LENGTH + length)).slice();
      return { msgType: whole[0]!, bytes: whole, body: whole.subarray(HANDSHAKE_HEADER_LENGTH) };
    });
    // The QUIC crypto stream bounds what it hands over (RFC 9000 section 7.5); the framer adds no cap
    // of its own beyond the message size.
    this.decoder = new Decoder(frame, { maxBuffered: Number.MAX_SAFE_INTEGER });
  }

  /** Appends CRYPTO stream bytes, in stream order. Nothing is parsed until {@link read}. */
  feed(data: Uint8Array): void {
    this.check();
    this.decoder.feed(data);
  }

  /** The next whole message, or null when more bytes are needed. */
  read(): FramedMessage | null {
    this.check();
    try {
      const v = this.decoder.read();
      return v === NEED_READ || v === END ? null : v;
    } catch (e) {
      this.failure = toTlsAlert(e, 'framing handshake messages');
      throw this.failure;
    }
  }

  /** Feeds `data` and returns every message it completes (possibly none, possibly several). */
  push(data: Uint8Array): FramedMessage[] {
    this.feed(data);
    const out: FramedMessage[] = [];
    for (let m = this.read(); m !== null; m = this.read()) out.push(m);
    return out;
  }

  /** Bytes held that do not form a whole message yet. */
  get buffered(): number {
    return this.decoder.source.buffered;
  }

  /** When known, how many more bytes the message in progress needs. */
  get needed(): number | undefined {
    return this.decoder.needed;
  }

  /**
   * Call when this level's keys are replaced: a partial message left here is an `unexpected_message`
   * (RFC 8446 section 5.1: "Handshake messages MUST NOT span key changes"; in QUIC the next message
   * belongs to the next level).
   */
  checkBoundary(): void {
    this.check();
    if (this.buffered > 0) {
      this.failure = new TlsAlertError('unexpected_message', `${this.buffered} bytes of an incomplete handshake message at a key change`);
      throw this.failure;
    }
  }

  /** Removes and returns the bytes not yet framed (for tests and diagnostics). */
  takeRest(): Uint8Array {
    return this.decoder.source.takeRest();
  }

  private check(): void {
    if (this.failure !== null) throw this.failure;
  }
}
