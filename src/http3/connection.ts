/**
 * HTTP/3 (RFC 9114) over a pullwire QUIC {@link Connection}, sans-I/O, in
 * the manner of h11 and wsproto: a state machine that turns QUIC stream
 * events into HTTP events and HTTP commands into QUIC stream writes.
 *
 * ## The driver's contract
 *
 * The caller keeps driving the QUIC connection exactly as before
 * (`receive`, `poll`), and:
 * - passes every QUIC event `poll` returns to {@link Http3Connection.handleEvent}
 *   (all of them: stream events, `handshake-completed`, `closed`; others are
 *   ignored);
 * - then calls {@link Http3Connection.nextEvent} until it returns null, and
 *   does so after every command too (commands such as `readData` can produce
 *   events: the trailers or the end of a body that was just read);
 * - polls the QUIC connection again after commands, as for QUIC commands.
 *
 * ```ts
 * const h3 = new Http3Connection(quic);
 * for (;;) {
 *   const r = quic.poll(now());
 *   if (r.type === 'event') {
 *     h3.handleEvent(r.event);
 *     for (let e = h3.nextEvent(); e !== null; e = h3.nextEvent()) onHttpEvent(e);
 *   } else ... // need-write, need-read, done: as for QUIC
 * }
 * ```
 *
 * Client commands: {@link request}, {@link sendData}, {@link sendTrailers},
 * {@link finish}, {@link readData}, {@link cancel}. Server: {@link respond}
 * (interim 1xx and final), the same data commands. Both: {@link shutdown}
 * (GOAWAY, then close when idle) and {@link close}.
 *
 * ## What is enforced
 *
 * The control stream with SETTINGS first (and a greased reserved setting),
 * the QPACK encoder and decoder streams (RFC 9204 section 4.2), the peer's
 * critical streams (one each; closing one is H3_CLOSED_CRITICAL_STREAM), frame
 * placement and order (H3_FRAME_UNEXPECTED, H3_MISSING_SETTINGS), layouts
 * (H3_FRAME_ERROR), GOAWAY identifiers (H3_ID_ERROR), no server push (we never
 * send MAX_PUSH_ID, so a PUSH_PROMISE, push stream or CANCEL_PUSH is
 * H3_ID_ERROR), malformed messages (fields.ts: a stream error
 * H3_MESSAGE_ERROR), Content-Length against DATA. A connection error closes
 * the QUIC connection with the HTTP/3 code (CONNECTION_CLOSE type 0x1d).
 *
 * ## Memory and backpressure
 *
 * Received bodies are not read from QUIC until the application calls
 * `readData`, so QUIC flow control holds the peer back. Per stream we hold at
 * most one frame header, one header section (bounded by
 * `maxFieldSectionSize`) and one read chunk. On the sending side,
 * `sendData` writes what the QUIC stream takes and returns that count
 * (backpressure: wait for `stream-writable`); the only bytes kept are the
 * unsent part of a header section or of a DATA frame header.
 */
import { NEED_READ, UsageError, Writer } from '../combinators/index.js';
import type { Connection } from '../quic/connection/connection.js';
import type { ConnectionEvent } from '../quic/connection/events.js';
import { StreamError } from '../quic/streams/errors.js';
import { H3, Http3Error } from './errors.js';
import type { Http3Event, Http3Options } from './events.js';
import { checkRequestHead, checkResponseHead, checkTrailers, fieldSectionSize } from './fields.js';
import {
  DEFAULT_MAX_CONTROL_FRAME,
  DEFAULT_SETTINGS,
  FrameReader,
  SETTINGS_IDS,
  STREAM_TYPES,
  encodeFrame,
  encodeStreamType,
  readSettings,
  reservedCode,
  type FrameStart,
  type Http3Settings,
  type Setting,
} from './frames.js';
import { QpackDecoder, QpackEncoder, QpackError, type HeaderField } from './qpack/index.js';
import {
  abortQuicStream,
  dropSending,
  finishSend,
  flushOwed,
  newRequestStream,
  queueOwed,
  writeData,
  type RequestStream,
  type SendPhase,
} from './request-stream.js';
import { LocalUniStreams, newPeerUniStream, readStreamType, type LocalUniKind, type PeerUniStream } from './uni-streams.js';

/** Bytes read from a QUIC stream at a time while parsing frame headers and header sections. */
const READ_CHUNK = 16 * 1024;

const EMPTY = new Uint8Array(0);

export class Http3Connection {
  readonly quic: Connection;
  readonly role: 'client' | 'server';
  private readonly encoder: QpackEncoder;
  private readonly decoder: QpackDecoder;
  private readonly maxFieldSectionSize: number;
  private readonly requests = new Map<number, RequestStream>();
  private readonly peerUni = new Map<number, PeerUniStream>();
  private readonly localUni: LocalUniStreams;
  private readonly peerCritical: Record<'control' | 'encoder' | 'decoder', number | null> = { control: null, encoder: null, decoder: null };
  private readonly events: Http3Event[] = [];
  private eventHead = 0;
  private peerSettingsValue: Http3Settings | null = null;
  /** GOAWAY identifiers received from / sent to the peer (section 5.2). */
  private goawayReceived: number | null = null;
  private goawaySent: number | null = null;
  /** Server: the next client request stream ID not seen yet (the GOAWAY identifier). */
  private nextRequestId = 0;
  /** Server: the largest MAX_PUSH_ID received (we never push; kept to check it never decreases). */
  private maxPushIdReceived = -1;
  private closeWhenIdle = false;
  private closedValue = false;
  private failure: Http3Error | QpackError | null = null;

  constructor(quic: Connection, options: Http3Options = {}) {
    this.quic = quic;
    this.role = quic.role;
    this.maxFieldSectionSize = options.maxFieldSectionSize ?? 64 * 1024;
    const tableCapacity = options.qpackMaxTableCapacity ?? 4096;
    const blocked = options.qpackBlockedStreams ?? 100;
    this.decoder = new QpackDecoder({
      maxTableCapacity: tableCapacity,
      maxBlockedStreams: blocked,
      maxFieldSectionSize: this.maxFieldSectionSize,
    });
    this.encoder = new QpackEncoder({ maxTableCapacity: options.encoderTableCapacity ?? 4096, huffman: options.huffman ?? true });
    const settings: Setting[] = [
      { id: SETTINGS_IDS.QPACK_MAX_TABLE_CAPACITY, value: tableCapacity },
      { id: SETTINGS_IDS.MAX_FIELD_SECTION_SIZE, value: this.maxFieldSectionSize },
      { id: SETTINGS_IDS.QPACK_BLOCKED_STREAMS, value: blocked },
    ];
    if (options.grease ?? true) {
      // RFC 9114 section 7.2.4.1: "Endpoints SHOULD include at least one such setting in their SETTINGS frame."
      const r = options.random?.(4);
      const n = r === undefined ? 0x1a2b : ((r[0]! << 8) | r[1]!) & 0x3fff;
      settings.push({ id: reservedCode(n), value: r === undefined ? 0 : r[2]! });
    }
    const control = new Writer({ initialSize: 64 });
    control.bytes(encodeStreamType(STREAM_TYPES.CONTROL)).bytes(encodeFrame({ type: 'settings', settings }));
    this.localUni = new LocalUniStreams(quic, {
      control: control.toBytes(),
      encoder: encodeStreamType(STREAM_TYPES.QPACK_ENCODER),
      decoder: encodeStreamType(STREAM_TYPES.QPACK_DECODER),
    });
    // RFC 9114 section 7.2.4.2: "settings MUST be sent as soon as the transport is ready to send data".
    // A server can open streams at once (0.5-RTT); a client's attempt waits for the server's transport
    // parameters (streams-available / handshake-completed).
    this.openLocalStreams();
  }

  // ---------------------------------------------------------------------------------------------
  // getters

  /** The peer's SETTINGS, or the defaults until they arrive. */
  get peerSettings(): Http3Settings {
    return this.peerSettingsValue ?? DEFAULT_SETTINGS;
  }

  /** True once the peer's SETTINGS arrived. */
  get settingsReceived(): boolean {
    return this.peerSettingsValue !== null;
  }

  /** The connection error we detected (the code we closed with), or null. */
  get error(): Http3Error | QpackError | null {
    return this.failure;
  }

  /** True once the QUIC connection reported `closed` (after a close, ours or the peer's). */
  get isClosed(): boolean {
    return this.closedValue;
  }

  /** Request streams with state (open, or with events or data not consumed yet). */
  get openRequests(): number[] {
    return [...this.requests.keys()];
  }

  // ---------------------------------------------------------------------------------------------
  // input and output

  /**
   * Feeds one event of the QUIC connection. Protocol errors are handled here
   * (stream errors reset the stream, connection errors close the connection)
   * and reported as events; only misuse throws.
   */
  handleEvent(ev: ConnectionEvent): void {
    if (ev.type === 'closed') {
      if (this.closedValue) return;
      this.closedValue = true;
      this.emit({ type: 'closed', reason: ev.reason, error: this.failure });
      return;
    }
    if (this.closedValue) return;
    this.guard(() => this.dispatch(ev));
  }

  /** The next HTTP/3 event, or null. */
  nextEvent(): Http3Event | null {
    if (this.eventHead >= this.events.length) {
      if (this.eventHead > 0) {
        this.events.length = 0;
        this.eventHead = 0;
      }
      return null;
    }
    return this.events[this.eventHead++]!;
  }

  private dispatch(ev: ConnectionEvent): void {
    switch (ev.type) {
      case 'handshake-completed':
        this.openLocalStreams();
        return;
      case 'stream-opened':
        this.onStreamOpened(ev.streamId, ev.bidi);
        return;
      case 'stream-readable':
        this.onStreamReadable(ev.streamId);
        return;
      case 'stream-writable':
        this.onStreamWritable(ev.streamId);
        return;
      case 'stream-reset':
        this.onStreamReset(ev.streamId, ev.errorCode);
        return;
      case 'stream-stop-sending':
        this.onStopSending(ev.streamId, ev.errorCode);
        return;
      case 'stream-closed':
        this.onStreamClosed(ev.streamId);
        return;
      case 'streams-available':
        if (!ev.bidi) this.openLocalStreams();
        else if (this.role === 'client') this.emit({ type: 'streams-available' });
        return;
      case 'closed': // handled in handleEvent
      case 'stream-finished':
      case 'handshake-confirmed':
      case 'datagram':
      case 'session-ticket':
      case 'path-changed':
      case 'path-validated':
      case 'path-failed':
        return;
      default: {
        const never: never = ev;
        void never;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // stream events

  private isBidi(id: number): boolean {
    return (id & 2) === 0;
  }

  private isLocal(id: number): boolean {
    return (id & 1) === (this.role === 'client' ? 0 : 1);
  }

  private onStreamOpened(id: number, bidi: boolean): void {
    if (this.isLocal(id)) return;
    if (bidi) {
      // RFC 9114 section 6.1: "Clients MUST treat receipt of a server-initiated bidirectional stream as a
      // connection error of type H3_STREAM_CREATION_ERROR".
      if (this.role === 'client')
        throw new Http3Error('H3_STREAM_CREATION_ERROR', 'server-initiated bidirectional stream', { streamId: id });
      this.acceptRequest(id);
    } else if (!this.peerUni.has(id)) {
      this.peerUni.set(id, newPeerUniStream(id));
    }
  }

  /** Server: a new request stream; rejected when at or above the GOAWAY identifier we sent. */
  private acceptRequest(id: number): void {
    if (this.requests.has(id) || id < this.nextRequestId) return;
    this.nextRequestId = id + 4;
    if (this.goawaySent !== null && id >= this.goawaySent) {
      // Section 5.2: "Requests ... with the indicated identifier or greater are rejected by the sender of the GOAWAY".
      abortQuicStream(this.quic, id, H3.H3_REQUEST_REJECTED);
      return;
    }
    this.requests.set(id, newRequestStream(id, '', this.maxFieldSectionSize));
  }

  private onStreamReadable(id: number): void {
    if (this.isBidi(id)) {
      const st = this.requests.get(id);
      if (st === undefined) return;
      st.quicReadable = true;
      this.pumpRequest(st);
      return;
    }
    let u = this.peerUni.get(id);
    if (u === undefined) {
      if (this.isLocal(id)) return;
      u = newPeerUniStream(id);
      this.peerUni.set(id, u);
    }
    this.readPeerUni(u);
  }

  private onStreamWritable(id: number): void {
    const local = this.localUni.kindOf(id);
    if (local !== null) return this.localUni.flush(local);
    const st = this.requests.get(id);
    if (st === undefined || (st.send === 'done' && st.owed === null && !st.finPending)) return;
    if (!flushOwed(this.quic, st)) return;
    if (st.wantWritable && st.send !== 'done') {
      st.wantWritable = false;
      this.emit({ type: 'stream-writable', streamId: id });
    }
  }

  private onStreamReset(id: number, errorCode: bigint): void {
    if (this.isBidi(id)) {
      const st = this.requests.get(id);
      if (st === undefined || st.phase === 'done') return;
      st.phase = 'done';
      st.blocked = null;
      this.cancelDecoding(id);
      this.emit({ type: 'reset', streamId: id, errorCode });
      this.maybeForget(st);
      return;
    }
    this.checkCriticalClosed(id, 'reset');
    this.peerUni.delete(id);
  }

  private onStopSending(id: number, errorCode: bigint): void {
    // Section 6.2.1: "the receiver MUST NOT request that the sender close the control stream"; RFC 9204
    // section 4.2 makes the QPACK streams critical too.
    const local = this.localUni.kindOf(id);
    if (local !== null) throw new Http3Error('H3_CLOSED_CRITICAL_STREAM', `the peer stopped our ${local} stream`, { streamId: id });
    const st = this.requests.get(id);
    if (st === undefined || st.send === 'done') return;
    dropSending(st);
    this.emit({ type: 'stop-sending', streamId: id, errorCode });
  }

  private onStreamClosed(id: number): void {
    if (!this.isBidi(id)) {
      this.peerUni.delete(id);
      return;
    }
    const st = this.requests.get(id);
    if (st === undefined) return;
    st.quicClosed = true;
    dropSending(st);
    this.maybeForget(st);
  }

  /** Forgets a request stream once QUIC is done with it and every event about it was produced. */
  private maybeForget(st: RequestStream): void {
    if (!st.quicClosed || st.phase !== 'done') return;
    this.requests.delete(st.id);
    this.checkIdle();
  }

  // ---------------------------------------------------------------------------------------------
  // request streams: receiving

  /** Reads one chunk from QUIC into the stream's reader; false when nothing came. */
  private fill(st: RequestStream, max: number): boolean {
    if (!st.quicReadable || st.fin) return false;
    let r;
    try {
      r = this.quic.streamRead(st.id, max);
    } catch (e) {
      // A reset or stop the QUIC layer processed before we saw its event: the event follows.
      if (e instanceof StreamError) {
        st.quicReadable = false;
        return false;
      }
      throw e;
    }
    if (r === null) {
      st.quicReadable = false;
      return false;
    }
    if (r.data.length > 0) st.reader.feed(r.data);
    if (r.fin) {
      st.fin = true;
      st.quicReadable = false;
    }
    return true;
  }

  /**
   * Parses what the stream holds up to the next DATA payload (which waits
   * for `readData`), a blocked header section, or the end of what arrived.
   */
  private pumpRequest(st: RequestStream): void {
    for (;;) {
      if (st.phase === 'done' || st.blocked !== null) return;
      const r = st.reader;
      if (r.dataLeft > 0) {
        if (st.fin && r.buffered === 0) r.checkEnd(); // FIN inside the DATA payload: H3_FRAME_ERROR
        if (!st.dataNotified && (r.buffered > 0 || st.quicReadable)) {
          st.dataNotified = true;
          this.emit({ type: 'data', streamId: st.id });
        }
        return;
      }
      let f: FrameStart | typeof NEED_READ;
      try {
        f = r.next();
      } catch (e) {
        // An oversized header section can be refused on its own stream (section 4.2.2) instead of the connection.
        if (e instanceof Http3Error && e.code === 'H3_EXCESSIVE_LOAD') {
          throw new Http3Error('H3_EXCESSIVE_LOAD', e.reason, { scope: 'stream', streamId: st.id });
        }
        throw e;
      }
      if (f === NEED_READ) {
        if (st.fin) return this.endRequestStream(st);
        if (!this.fill(st, READ_CHUNK)) return;
        continue;
      }
      this.handleRequestFrame(st, f);
    }
  }

  private handleRequestFrame(st: RequestStream, f: FrameStart): void {
    const id = st.id;
    if (f.kind === 'unknown') return; // section 9: unknown frame types MAY appear anywhere on a request stream
    if (f.kind === 'data') {
      if (st.phase === 'head') {
        if (st.interimSeen) throw new Http3Error('H3_MESSAGE_ERROR', 'DATA after an interim response', { scope: 'stream', streamId: id });
        throw new Http3Error('H3_FRAME_UNEXPECTED', 'DATA before HEADERS (RFC 9114 section 4.1)', { streamId: id });
      }
      if (st.phase === 'trailers')
        throw new Http3Error('H3_FRAME_UNEXPECTED', 'DATA after the trailers (RFC 9114 section 4.1)', { streamId: id });
      st.received += f.length;
      // Section 4.1.2: Content-Length must equal the sum of the DATA frame lengths: fail as soon as it is exceeded.
      if (st.contentLength !== null && !st.noContent && st.received > st.contentLength) {
        throw new Http3Error('H3_MESSAGE_ERROR', `more content than content-length ${st.contentLength}`, { scope: 'stream', streamId: id });
      }
      return;
    }
    const frame = f.frame;
    switch (frame.type) {
      case 'headers': {
        if (st.phase === 'trailers')
          throw new Http3Error('H3_FRAME_UNEXPECTED', 'HEADERS after the trailers (RFC 9114 section 4.1)', { streamId: id });
        const which = st.phase === 'head' ? 'head' : 'trailers';
        const fields = this.decodeSection(id, frame.fieldSection);
        if (fields === null) st.blocked = which;
        else this.onHeaderSection(st, fields, which);
        return;
      }
      case 'push-promise':
        // Section 7.2.5: a server MUST treat a PUSH_PROMISE as H3_FRAME_UNEXPECTED; a client that sent no
        // MAX_PUSH_ID (we never do) sees a push ID above its limit: H3_ID_ERROR.
        if (this.role === 'server')
          throw new Http3Error('H3_FRAME_UNEXPECTED', 'PUSH_PROMISE from a client (RFC 9114 section 7.2.5)', { streamId: id });
        throw new Http3Error('H3_ID_ERROR', `PUSH_PROMISE for push ${frame.pushId} without MAX_PUSH_ID (RFC 9114 section 7.2.5)`, {
          streamId: id,
        });
      case 'settings':
      case 'goaway':
      case 'max-push-id':
      case 'cancel-push':
        throw new Http3Error('H3_FRAME_UNEXPECTED', `${frame.type} frame on a request stream (RFC 9114 section 7)`, { streamId: id });
      default: {
        const never: never = frame;
        void never;
      }
    }
  }

  /** Decodes a field section; null when it waits for the encoder stream (blocked). */
  private decodeSection(id: number, block: Uint8Array): HeaderField[] | null {
    let r;
    try {
      r = this.decoder.decodeFieldSection(id, block);
    } catch (e) {
      // A too large section is refused on its stream (section 4.2.2); other QPACK errors end the connection.
      if (e instanceof QpackError && e.kind === 'field-section-size') {
        throw new Http3Error('H3_EXCESSIVE_LOAD', `field section larger than ${this.maxFieldSectionSize}`, {
          scope: 'stream',
          streamId: id,
        });
      }
      throw e;
    } finally {
      this.flushDecoderStream();
    }
    return r.kind === 'fields' ? r.fields : null;
  }

  private onHeaderSection(st: RequestStream, fields: HeaderField[], which: 'head' | 'trailers'): void {
    const id = st.id;
    if (which === 'trailers') {
      checkTrailers(fields, id);
      st.phase = 'trailers';
      this.emit({ type: 'trailers', streamId: id, trailers: fields });
      return;
    }
    if (this.role === 'server') {
      const head = checkRequestHead(fields, id);
      st.contentLength = head.contentLength;
      st.method = head.method;
      st.phase = 'body';
      this.emit({ type: 'headers', streamId: id, headers: fields });
      return;
    }
    const head = checkResponseHead(fields, id);
    if (head.status < 200) {
      // Section 4.1: interim responses precede the final one and carry no content.
      st.interimSeen = true;
      this.emit({ type: 'informational', streamId: id, headers: fields });
      return;
    }
    st.contentLength = head.contentLength;
    // Responses to HEAD and 204 / 304 responses never have content (RFC 9110 section 6.4.1).
    st.noContent = st.method === 'HEAD' || head.status === 204 || head.status === 304;
    st.phase = 'body';
    this.emit({ type: 'headers', streamId: id, headers: fields });
  }

  /** The stream ended cleanly (FIN) at a frame boundary, or inside a frame (H3_FRAME_ERROR). */
  private endRequestStream(st: RequestStream): void {
    const id = st.id;
    st.reader.checkEnd();
    if (st.phase === 'head') {
      // Section 4.1: "If a client-initiated stream terminates without enough of the HTTP message to provide a
      // complete response, the server SHOULD abort its response stream with the error code H3_REQUEST_INCOMPLETE."
      if (this.role === 'server')
        throw new Http3Error('H3_REQUEST_INCOMPLETE', 'the request stream ended before its header section', {
          scope: 'stream',
          streamId: id,
        });
      throw new Http3Error('H3_MESSAGE_ERROR', 'the response stream ended before a final response', { scope: 'stream', streamId: id });
    }
    if (st.phase === 'body' && st.contentLength !== null && !st.noContent && st.received !== st.contentLength) {
      throw new Http3Error(
        'H3_MESSAGE_ERROR',
        `${st.received} content bytes, content-length ${st.contentLength} (RFC 9114 section 4.1.2)`,
        {
          scope: 'stream',
          streamId: id,
        },
      );
    }
    st.phase = 'done';
    this.emit({ type: 'end', streamId: id });
    this.maybeForget(st);
  }

  /**
   * Reads body bytes of a request stream (after a `data` event): at most
   * `max` bytes of one DATA frame, or null when none are readable now (a new
   * `data` event follows when more arrive). The bytes are the caller's to
   * keep. Reading is what lets the peer send more. Returns null for a stream
   * that is unknown or over.
   */
  readData(streamId: number, max = Infinity): Uint8Array | null {
    const st = this.requests.get(streamId);
    if (st === undefined || this.closedValue) return null;
    if (!(max >= 1)) throw new UsageError(`readData: max must be at least 1, got ${max}`);
    let out: Uint8Array | null = null;
    this.guard(() => {
      out = this.readDataFrom(st, max);
    });
    return out;
  }

  private readDataFrom(st: RequestStream, max: number): Uint8Array | null {
    for (;;) {
      if (st.phase === 'done' || st.blocked !== null) {
        st.dataNotified = false;
        return null;
      }
      const r = st.reader;
      if (r.dataLeft > 0) {
        const piece = r.readData(max);
        if (piece === NEED_READ) {
          if (st.fin) r.checkEnd(); // FIN inside the DATA payload: H3_FRAME_ERROR
          // Read exactly within the payload: nothing past this frame is pulled from QUIC.
          if (!this.fill(st, Math.min(max, r.dataLeft))) {
            st.dataNotified = false;
            return null;
          }
          continue;
        }
        // Parse what follows the frame now, so the trailers or the end are reported without another hint.
        if (r.dataLeft === 0) this.pumpRequest(st);
        return piece;
      }
      this.pumpRequest(st);
      if (st.reader.dataLeft === 0) {
        st.dataNotified = false;
        return null;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // request streams: sending

  /**
   * Client: sends a request header section on a new request stream and
   * returns its ID, or null when the server's stream limit is reached (a
   * `streams-available` event follows). `endStream` finishes the request
   * (no body). Throws UsageError for an invalid header section or after the
   * server's GOAWAY.
   */
  request(headers: readonly HeaderField[], options: { readonly endStream?: boolean } = {}): number | null {
    if (this.role !== 'client') throw new UsageError('request() is for clients');
    this.checkUsable();
    if (this.goawayReceived !== null)
      throw new UsageError('the server sent GOAWAY: no new requests on this connection (RFC 9114 section 5.2)');
    const head = local(() => checkRequestHead(headers));
    this.checkPeerFieldSectionSize(headers);
    const id = this.quic.openStream(true);
    if (id === null) return null;
    const st = newRequestStream(id, head.method, this.maxFieldSectionSize);
    this.requests.set(id, st);
    this.writeHeaderSection(st, headers);
    st.send = 'body';
    if (options.endStream === true) finishSend(this.quic, st);
    return id;
  }

  /**
   * Server: sends a response header section. A 1xx status is an interim
   * response (more may follow); anything else is the final response, after
   * which body, trailers and the end follow. `endStream` finishes the
   * response (no body).
   */
  respond(streamId: number, headers: readonly HeaderField[], options: { readonly endStream?: boolean } = {}): void {
    if (this.role !== 'server') throw new UsageError('respond() is for servers');
    this.checkUsable();
    const st = this.sendable(streamId, 'head');
    const head = local(() => checkResponseHead(headers));
    if (head.status < 200 && options.endStream === true) throw new UsageError('an interim (1xx) response cannot end the stream');
    this.checkPeerFieldSectionSize(headers);
    this.writeHeaderSection(st, headers);
    if (head.status < 200) return;
    st.send = 'body';
    if (options.endStream === true) finishSend(this.quic, st);
  }

  /**
   * Sends body bytes in DATA frames and returns how many of `data` the QUIC
   * stream took (backpressure: the rest waits for `stream-writable`). When
   * fewer than `data.length` are taken, the DATA frame declared for them is
   * open: pass the remaining bytes to the next `sendData` before anything
   * else on this stream (or `cancel` it). `fin` ends the message once
   * everything is taken.
   */
  sendData(streamId: number, data: Uint8Array, fin = false): number {
    this.checkUsable();
    const st = this.sendable(streamId, 'body');
    if (fin && st.frameLeft > data.length) {
      throw new UsageError(`sendData: ${st.frameLeft} bytes of an open DATA frame are still owed; cannot finish with ${data.length}`);
    }
    const off = writeData(this.quic, st, data);
    if (off < data.length) return off;
    if (fin) finishSend(this.quic, st);
    return off;
  }

  /** Sends the trailer section and ends the message (section 4.1). */
  sendTrailers(streamId: number, trailers: readonly HeaderField[]): void {
    this.checkUsable();
    const st = this.sendable(streamId, 'body');
    if (st.frameLeft > 0) throw new UsageError(`sendTrailers: ${st.frameLeft} bytes of an open DATA frame are still owed`);
    local(() => checkTrailers(trailers));
    this.checkPeerFieldSectionSize(trailers);
    this.writeHeaderSection(st, trailers);
    finishSend(this.quic, st);
  }

  /** Ends the message (FIN) after what was sent. */
  finish(streamId: number): void {
    this.sendData(streamId, EMPTY, true);
  }

  /**
   * Abandons a request stream in both directions (RESET_STREAM and
   * STOP_SENDING, section 4.1.1) with `errorCode` (default
   * H3_REQUEST_CANCELLED). No further events are reported for it.
   */
  cancel(streamId: number, errorCode: number = H3.H3_REQUEST_CANCELLED): void {
    this.checkUsable();
    const st = this.requests.get(streamId);
    if (st === undefined) return;
    this.abortRequest(st, errorCode);
    this.maybeForget(st);
  }

  private sendable(streamId: number, phase: SendPhase): RequestStream {
    const st = this.requests.get(streamId);
    if (st === undefined) throw new UsageError(`no open request stream ${streamId}`);
    if (st.send !== phase) {
      throw new UsageError(
        st.send === 'done'
          ? `stream ${streamId} is finished or reset`
          : phase === 'head'
            ? `stream ${streamId} already has its final header section`
            : `stream ${streamId} has no header section yet`,
      );
    }
    return st;
  }

  private checkUsable(): void {
    if (this.closedValue || this.failure !== null) throw new UsageError('the HTTP/3 connection is closed');
  }

  /** Section 4.2.2: "An implementation that has received this parameter SHOULD NOT send an HTTP message header that exceeds the indicated size." */
  private checkPeerFieldSectionSize(fields: readonly HeaderField[]): void {
    const limit = this.peerSettings.maxFieldSectionSize;
    const size = fieldSectionSize(fields);
    if (size > limit) throw new UsageError(`field section of ${size} bytes, the peer accepts at most ${limit} (RFC 9114 section 4.2.2)`);
  }

  private writeHeaderSection(st: RequestStream, fields: readonly HeaderField[]): void {
    const block = this.encoder.encodeFieldSection(st.id, fields);
    // Encoder instructions first: the header block may refer to entries they insert.
    this.flushEncoderStream();
    queueOwed(this.quic, st, encodeFrame({ type: 'headers', fieldSection: block }));
  }

  /** Resets and stops a request stream (both directions) with `code`. */
  private abortRequest(st: RequestStream, code: number): void {
    if (st.phase !== 'done') this.cancelDecoding(st.id);
    st.phase = 'done';
    st.blocked = null;
    dropSending(st);
    if (!st.quicClosed) abortQuicStream(this.quic, st.id, code);
  }

  private cancelDecoding(id: number): void {
    // RFC 9204 section 4.4.2: the decoder tells the encoder about streams it will never decode.
    this.decoder.cancelStream(id);
    this.flushDecoderStream();
  }

  // ---------------------------------------------------------------------------------------------
  // the peer's unidirectional streams

  private readPeerUni(u: PeerUniStream): void {
    for (;;) {
      if (u.kind === 'ignored') return;
      let r;
      try {
        r = this.quic.streamRead(u.id, READ_CHUNK);
      } catch (e) {
        if (e instanceof StreamError) return;
        throw e;
      }
      if (r === null) return;
      if (r.data.length > 0) this.onPeerUniData(u, r.data);
      if (r.fin) {
        this.checkCriticalClosed(u.id, 'finished');
        this.peerUni.delete(u.id);
        return;
      }
    }
  }

  private onPeerUniData(u: PeerUniStream, data: Uint8Array): void {
    if (u.kind === 'pending') {
      const t = readStreamType(u, data);
      if (t === null) return;
      this.setPeerUniKind(u, t.type);
      if (t.rest.length > 0) this.onPeerUniData(u, t.rest);
      return;
    }
    switch (u.kind) {
      case 'control':
        u.reader!.feed(data);
        this.pumpControl(u.reader!);
        return;
      case 'encoder':
        this.decoder.receiveEncoderStream(data);
        this.flushDecoderStream();
        this.resumeUnblocked();
        return;
      case 'decoder':
        this.encoder.receiveDecoderStream(data);
        this.flushEncoderStream();
        return;
      case 'ignored':
        return;
      default: {
        const never: never = u.kind;
        void never;
      }
    }
  }

  private setPeerUniKind(u: PeerUniStream, type: number): void {
    const id = u.id;
    const critical = (kind: 'control' | 'encoder' | 'decoder'): void => {
      // Section 6.2.1 (control) and RFC 9204 section 4.2 (encoder, decoder): one of each per peer.
      if (this.peerCritical[kind] !== null) throw new Http3Error('H3_STREAM_CREATION_ERROR', `a second ${kind} stream`, { streamId: id });
      this.peerCritical[kind] = id;
      u.kind = kind;
    };
    switch (type) {
      case STREAM_TYPES.CONTROL:
        critical('control');
        u.reader = new FrameReader({ maxControlFrame: DEFAULT_MAX_CONTROL_FRAME, maxFieldSectionFrame: DEFAULT_MAX_CONTROL_FRAME });
        return;
      case STREAM_TYPES.QPACK_ENCODER:
        critical('encoder');
        return;
      case STREAM_TYPES.QPACK_DECODER:
        critical('decoder');
        return;
      case STREAM_TYPES.PUSH:
        // Section 6.2.2: "if a server receives a client-initiated push stream, this MUST be treated as a
        // connection error of type H3_STREAM_CREATION_ERROR"; section 4.6: a client that sent no MAX_PUSH_ID
        // treats a push stream as H3_ID_ERROR.
        if (this.role === 'server') throw new Http3Error('H3_STREAM_CREATION_ERROR', 'push stream from a client', { streamId: id });
        throw new Http3Error('H3_ID_ERROR', 'push stream without MAX_PUSH_ID (RFC 9114 section 4.6)', { streamId: id });
      default:
        // Section 6.2: unknown (and reserved) stream types: abort reading, "SHOULD use the H3_STREAM_CREATION_ERROR".
        u.kind = 'ignored';
        try {
          this.quic.streamStopSending(id, H3.H3_STREAM_CREATION_ERROR);
        } catch (e) {
          if (!(e instanceof StreamError)) throw e;
        }
    }
  }

  private checkCriticalClosed(id: number, how: 'finished' | 'reset'): void {
    for (const kind of ['control', 'encoder', 'decoder'] as const) {
      if (this.peerCritical[kind] === id) {
        // Section 6.2.1: "If either control stream is closed at any point, this MUST be treated as a connection
        // error of type H3_CLOSED_CRITICAL_STREAM"; RFC 9204 section 4.2 for the QPACK streams.
        throw new Http3Error('H3_CLOSED_CRITICAL_STREAM', `the peer's ${kind} stream was ${how}`, { streamId: id });
      }
    }
  }

  private pumpControl(r: FrameReader): void {
    for (;;) {
      const f = r.next();
      if (f === NEED_READ) return;
      if (f.kind === 'data') {
        if (this.peerSettingsValue === null)
          throw new Http3Error('H3_MISSING_SETTINGS', 'the control stream starts with DATA (RFC 9114 section 6.2.1)');
        throw new Http3Error('H3_FRAME_UNEXPECTED', 'DATA on the control stream (RFC 9114 section 7.2.1)');
      }
      if (this.peerSettingsValue === null) {
        // Section 6.2.1: "If the first frame of the control stream is any other frame type, this MUST be treated
        // as a connection error of type H3_MISSING_SETTINGS."
        if (f.kind !== 'frame' || f.frame.type !== 'settings') {
          throw new Http3Error(
            'H3_MISSING_SETTINGS',
            `the control stream starts with ${f.kind === 'frame' ? f.frame.type : 'an unknown frame'}`,
          );
        }
        this.applySettings(readSettings(f.frame.settings));
        continue;
      }
      if (f.kind === 'unknown') continue;
      const frame = f.frame;
      switch (frame.type) {
        case 'settings':
          throw new Http3Error('H3_FRAME_UNEXPECTED', 'a second SETTINGS frame (RFC 9114 section 7.2.4)');
        case 'headers':
        case 'push-promise':
          throw new Http3Error('H3_FRAME_UNEXPECTED', `${frame.type} on the control stream (RFC 9114 section 7)`);
        case 'goaway':
          this.onGoaway(frame.id);
          continue;
        case 'max-push-id':
          // Section 7.2.7: "A client MUST treat the receipt of a MAX_PUSH_ID frame as a connection error of type
          // H3_FRAME_UNEXPECTED"; a server checks it never decreases.
          if (this.role === 'client') throw new Http3Error('H3_FRAME_UNEXPECTED', 'MAX_PUSH_ID from a server (RFC 9114 section 7.2.7)');
          if (frame.pushId < this.maxPushIdReceived) throw new Http3Error('H3_ID_ERROR', 'MAX_PUSH_ID decreased (RFC 9114 section 7.2.7)');
          this.maxPushIdReceived = frame.pushId;
          continue;
        case 'cancel-push':
          // Section 7.2.3: a server never promised this push (we never push); a client never allowed any push ID.
          throw new Http3Error(
            'H3_ID_ERROR',
            `CANCEL_PUSH for push ${frame.pushId}, which was never allowed or promised (RFC 9114 section 7.2.3)`,
          );
        default: {
          const never: never = frame;
          void never;
        }
      }
    }
  }

  private applySettings(settings: Http3Settings): void {
    this.peerSettingsValue = settings;
    this.encoder.applyPeerSettings({ maxTableCapacity: settings.qpackMaxTableCapacity, blockedStreams: settings.qpackBlockedStreams });
    this.flushEncoderStream();
    this.emit({ type: 'settings', settings });
  }

  private onGoaway(id: number): void {
    // Section 5.2: "Receiving a GOAWAY containing a larger identifier than previously received MUST be treated
    // as a connection error of type H3_ID_ERROR."
    if (this.goawayReceived !== null && id > this.goawayReceived) {
      throw new Http3Error('H3_ID_ERROR', `GOAWAY ${id} after GOAWAY ${this.goawayReceived} (RFC 9114 section 5.2)`);
    }
    const rejected: number[] = [];
    if (this.role === 'client') {
      // Section 7.2.6: "A client MUST treat receipt of a GOAWAY frame containing a stream ID of any other type
      // [than client-initiated bidirectional] as a connection error of type H3_ID_ERROR."
      if (id % 4 !== 0 && id !== Number.MAX_SAFE_INTEGER)
        throw new Http3Error('H3_ID_ERROR', `GOAWAY ${id} is not a client request stream ID`);
      // Section 5.2: requests at or above the identifier will not be processed: cancel them here.
      for (const st of this.requests.values()) {
        if (st.id >= id && st.phase !== 'done') {
          rejected.push(st.id);
          this.abortRequest(st, H3.H3_REQUEST_CANCELLED);
        }
      }
    }
    this.goawayReceived = id;
    this.emit({ type: 'goaway', id, rejected });
    for (const sid of rejected) {
      const st = this.requests.get(sid);
      if (st !== undefined) this.maybeForget(st);
    }
  }

  private resumeUnblocked(): void {
    for (const { streamId, fields } of this.decoder.takeUnblocked()) {
      const st = this.requests.get(streamId);
      if (st === undefined || st.blocked === null) continue;
      const which = st.blocked;
      st.blocked = null;
      this.guard(() => {
        this.onHeaderSection(st, fields, which);
        this.pumpRequest(st);
      });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // our unidirectional streams

  private openLocalStreams(): void {
    if (!this.closedValue) this.localUni.open();
  }

  private writeLocal(kind: LocalUniKind, bytes: Uint8Array): void {
    this.localUni.write(kind, bytes);
  }

  private flushEncoderStream(): void {
    const d = this.encoder.takeEncoderStreamData();
    if (d !== null && d.length > 0) this.writeLocal('encoder', d);
  }

  private flushDecoderStream(): void {
    const d = this.decoder.takeDecoderStreamData();
    if (d !== null && d.length > 0) this.writeLocal('decoder', d);
  }

  // ---------------------------------------------------------------------------------------------
  // shutdown and errors

  /**
   * Starts a graceful shutdown (section 5.2): sends GOAWAY (a server names
   * the first request stream it has not seen: later ones are rejected with
   * H3_REQUEST_REJECTED; a client sends push ID 0, since it accepts no push),
   * then closes the connection with H3_NO_ERROR once no request stream is
   * left.
   */
  shutdown(): void {
    this.checkUsable();
    const id = this.role === 'server' ? this.nextRequestId : 0;
    if (this.goawaySent === null || id < this.goawaySent) {
      this.goawaySent = id;
      this.writeLocal('control', encodeFrame({ type: 'goaway', id }));
    }
    this.closeWhenIdle = true;
    this.checkIdle();
  }

  /** Closes the connection now (CONNECTION_CLOSE with an HTTP/3 code, default H3_NO_ERROR). */
  close(errorCode: number = H3.H3_NO_ERROR, reason = ''): void {
    if (this.closedValue) return;
    this.quic.close({ errorCode, kind: 'application', reason });
  }

  private checkIdle(): void {
    if (!this.closeWhenIdle || this.closedValue || this.failure !== null || this.requests.size > 0) return;
    this.close(H3.H3_NO_ERROR, 'shutdown');
  }

  /** Runs `fn`, turning protocol errors into stream errors or a connection close. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof Http3Error && e.scope === 'stream') {
        const st = this.requests.get(e.streamId);
        if (st !== undefined) {
          this.abortRequest(st, e.errorCode);
          this.emit({ type: 'stream-error', streamId: st.id, error: e });
          this.maybeForget(st);
        }
        return;
      }
      if (e instanceof Http3Error || e instanceof QpackError) {
        this.fail(e);
        return;
      }
      throw e;
    }
  }

  /** A connection error: close with its code (section 8). */
  private fail(e: Http3Error | QpackError): void {
    if (this.failure !== null || this.closedValue) return;
    this.failure = e;
    const errorCode = e instanceof QpackError ? e.h3Code : e.errorCode;
    const reason = e instanceof QpackError ? e.kind : e.reason;
    this.quic.close({ errorCode, kind: 'application', reason: reason.slice(0, 100) });
  }

  private emit(e: Http3Event): void {
    this.events.push(e);
  }
}

/** Runs a check on something the caller wants to send: a failure is the caller's mistake. */
function local<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof Http3Error) throw new UsageError(`invalid message to send: ${e.reason}`);
    throw e;
  }
}
