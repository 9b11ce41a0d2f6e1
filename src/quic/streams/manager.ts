/**
 * All the streams of one connection (RFC 9000 sections 2 to 4), as pure
 * state the connection drives. Streams are IDs on the connection (DESIGN.md):
 * the application's commands name a stream by its ID and go through the
 * connection to this manager; no stream object does I/O.
 *
 * ## How the connection uses it
 *
 * - Construct with our role and the limits we advertise (our transport
 *   parameters); call {@link StreamManager.setPeerTransportParameters} when the
 *   peer's parameters are known (or remembered ones for 0-RTT).
 * - Input: pass every STREAM, RESET_STREAM, STOP_SENDING, MAX_DATA,
 *   MAX_STREAM_DATA, MAX_STREAMS, DATA_BLOCKED, STREAM_DATA_BLOCKED and
 *   STREAMS_BLOCKED frame of a 0-RTT or 1-RTT packet to
 *   {@link StreamManager.handleFrame} (or the `handle*Frame` methods). A
 *   peer error raises a TransportError (../errors.ts) with the RFC's code and
 *   frame type: the connection closes with it.
 * - Output: while building a packet, call {@link StreamManager.nextFrame}
 *   with the room left until it returns null; each result is a frame that
 *   fits (`frameSize(frame) <= room`, explicit Length) and an opaque record.
 *   Keep the records with the packet; when the packet is acknowledged call
 *   {@link StreamManager.onFrameAcked} for each, when it is declared lost
 *   {@link StreamManager.onFrameLost}. {@link StreamManager.hasPendingFrames}
 *   says whether there is anything to send.
 * - Events: {@link StreamManager.pollEvent} until null (see {@link StreamEvent}).
 * - Commands: {@link StreamManager.openStream}, `write`, `finish`,
 *   `resetStream`, `stopSending`, `read`; misuse raises {@link StreamError}.
 *
 * Frame order within `nextFrame`: flow-control credit first (MAX_DATA,
 * MAX_STREAMS, then each stream's MAX_STREAM_DATA), blocked signals,
 * RESET_STREAM / STOP_SENDING, retransmissions of lost STREAM data, then new
 * STREAM data, round-robin across streams one frame at a time.
 *
 * Credit given to the peer grows as the application reads (or data is
 * discarded), never merely as it arrives (STYLE.md habit 9). Memory: per
 * stream, received data held is bounded by the stream window and send data
 * by `sendBufferSize`; the peer's open streams are bounded by our
 * initial_max_streams_* (their credit comes back only when a stream's state
 * is discarded).
 */
import {
  frameSize,
  type DataBlockedFrame,
  type Frame,
  type MaxDataFrame,
  type MaxStreamDataFrame,
  type MaxStreamsFrame,
  type ResetStreamFrame,
  type StopSendingFrame,
  type StreamDataBlockedFrame,
  type StreamFrame,
  type StreamsBlockedFrame,
} from '../frame.js';
import type { Role, TransportParameters } from '../transport-params.js';
import { StreamError } from './errors.js';
import { LocalStreamCredit, RecvWindow, RemoteStreamCredit, SendCredit } from './flow.js';
import { DEFAULT_MAX_SEGMENTS, RecvStream, type RecvState, type StreamRead } from './recv.js';
import { SendStream, type SendState, type StreamPiece } from './send.js';
import {
  checkIncomingStreamFrame,
  isBidirectional,
  isLocallyInitiated,
  streamIdOf,
  streamIndex,
  streamType,
  type StreamPart,
} from './stream-id.js';

/** The transport parameters that set stream and flow-control limits (RFC 9000 section 18.2). */
export type StreamLimits = Pick<
  TransportParameters,
  | 'initialMaxData'
  | 'initialMaxStreamDataBidiLocal'
  | 'initialMaxStreamDataBidiRemote'
  | 'initialMaxStreamDataUni'
  | 'initialMaxStreamsBidi'
  | 'initialMaxStreamsUni'
>;

export interface StreamManagerOptions {
  /** This endpoint's role: decides which stream IDs are ours (RFC 9000 section 2.1). */
  readonly role: Role;
  /**
   * The limits we advertise in our transport parameters. They are also our
   * windows: the credit kept open ahead of what the application consumed
   * (connection: initialMaxData; streams: initialMaxStreamData*), and the
   * number of the peer's streams open at once (initialMaxStreams*).
   */
  readonly local: StreamLimits;
  /**
   * Most bytes a stream holds for sending (written and not yet acknowledged);
   * a write takes what fits. Default 256 KiB: enough to keep about 20 Mbit/s
   * flowing on one stream over a 100 ms round trip.
   */
  readonly sendBufferSize?: number;
  /**
   * Keep views of received STREAM data instead of copying it (default true;
   * pieces much smaller than their buffer are copied anyway, see
   * assembler.ts). Only safe when the caller never reuses the buffer of a
   * datagram whose frames it passed in; set false otherwise.
   */
  readonly retainReceivedViews?: boolean;
  /**
   * Most separate pieces of received data a stream holds before merging
   * them; after merging, more than half of it in separate runs closes the
   * connection with INTERNAL_ERROR (RFC 9000 section 21.7). Default 2048:
   * 1024 gaps at once, near quic-go's limit of 1000.
   */
  readonly maxReceiveSegments?: number;
}

/**
 * What the stream layer tells the application, in order. Every event names a
 * stream by ID; no event carries stream data (the application reads with
 * `read`, which is what returns credit to the peer: quinn's hint model).
 */
export type StreamEvent =
  /** The peer opened a stream (also each lower-numbered stream of its type it opened implicitly, RFC 9000 section 3.2). */
  | { readonly type: 'stream-opened'; readonly streamId: number; readonly bidi: boolean }
  /**
   * Data or the end of the stream can be read. Given once, then again only
   * after a `read` drained the stream (returned everything readable) and
   * more arrived: read until `read` returns null.
   */
  | { readonly type: 'stream-readable'; readonly streamId: number }
  /** A write was cut short and at least half the send buffer is free again. */
  | { readonly type: 'stream-writable'; readonly streamId: number }
  /** Everything written, and the FIN, was acknowledged by the peer (sending part "Data Recvd", section 3.1). */
  | { readonly type: 'stream-finished'; readonly streamId: number }
  /** The peer abandoned its sending part (RESET_STREAM, section 19.4); unread data is dropped. */
  | { readonly type: 'stream-reset'; readonly streamId: number; readonly errorCode: bigint; readonly finalSize: number }
  /**
   * The peer asked us to stop sending (STOP_SENDING, section 19.5). The
   * sending part is already reset with the peer's error code (section 3.5:
   * "An endpoint that receives a STOP_SENDING frame MUST send a RESET_STREAM
   * frame if the stream is in the "Ready" or "Send" state").
   */
  | { readonly type: 'stream-stop-sending'; readonly streamId: number; readonly errorCode: bigint }
  /** Both parts are done and the stream's state is gone: the ID is unknown from now on. */
  | { readonly type: 'stream-closed'; readonly streamId: number }
  /** `openStream` returned null earlier and the peer has now raised the limit (MAX_STREAMS). */
  | { readonly type: 'streams-available'; readonly bidi: boolean };

/**
 * What the manager remembers about a frame it produced, to act on its
 * acknowledgement or loss (RFC 9000 section 13.3). Opaque to the
 * connection: keep it with the packet and hand it back.
 */
export type StreamFrameRecord =
  | { readonly kind: 'stream'; readonly streamId: number; readonly offset: number; readonly length: number; readonly fin: boolean }
  | { readonly kind: 'reset-stream'; readonly streamId: number }
  | { readonly kind: 'stop-sending'; readonly streamId: number }
  | { readonly kind: 'max-stream-data'; readonly streamId: number; readonly maximum: number }
  | { readonly kind: 'stream-data-blocked'; readonly streamId: number; readonly limit: number }
  | { readonly kind: 'max-data'; readonly maximum: number }
  | { readonly kind: 'data-blocked'; readonly limit: number }
  | { readonly kind: 'max-streams'; readonly bidi: boolean; readonly maximum: number }
  | { readonly kind: 'streams-blocked'; readonly bidi: boolean; readonly limit: number };

/** A frame to put in the packet, and its record. */
export interface ProducedFrame {
  readonly frame: Frame;
  readonly record: StreamFrameRecord;
}

/** The frames this manager handles. */
export type StreamControlFrame =
  | StreamFrame
  | ResetStreamFrame
  | StopSendingFrame
  | MaxDataFrame
  | MaxStreamDataFrame
  | MaxStreamsFrame
  | DataBlockedFrame
  | StreamDataBlockedFrame
  | StreamsBlockedFrame;

const T_RESET_STREAM = 0x04;
const T_STOP_SENDING = 0x05;
const T_STREAM = 0x08;
const T_MAX_STREAM_DATA = 0x11;
const T_STREAM_DATA_BLOCKED = 0x15;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** We never open a stream whose ID would not be an exact number (index 2^51 and up). */
const MAX_LOCAL_STREAMS = Math.floor((MAX_SAFE - 3) / 4) + 1;
const DEFAULT_SEND_BUFFER = 256 * 1024;

interface Entry {
  readonly id: number;
  readonly local: boolean;
  readonly bidi: boolean;
  readonly send: SendStream | null;
  readonly recv: RecvStream | null;
}

/** Index into per-type pairs: 0 bidirectional, 1 unidirectional. */
const dir = (bidi: boolean): 0 | 1 => (bidi ? 0 : 1);

export class StreamManager {
  readonly role: Role;
  private readonly local: StreamLimits;
  private readonly sendBufferSize: number;
  private readonly retainViews: boolean;
  private readonly maxSegments: number;

  private readonly streams = new Map<number, Entry>();
  /** Streams we may open, per direction (peer's limits). */
  private readonly localCredit: [LocalStreamCredit, LocalStreamCredit] = [new LocalStreamCredit(0), new LocalStreamCredit(0)];
  /** Streams the peer may open, per direction (our limits). */
  private readonly remoteCredit: [RemoteStreamCredit, RemoteStreamCredit];
  /** openStream failed at the limit: tell the application when it rises. */
  private readonly openWanted: [boolean, boolean] = [false, false];
  /** Connection-level credit the peer gave us. */
  private readonly connSend = new SendCredit(0);
  /** Connection-level credit we gave the peer. */
  private readonly connRecv: RecvWindow;
  /** The peer's initial stream credit: [its bidi streams, our bidi streams, our uni streams]. */
  private peerBidiLocal = 0;
  private peerBidiRemote = 0;
  private peerUni = 0;

  /** Streams with a per-stream control frame pending (may hold stale entries; pruned as met). */
  private readonly control = new Set<Entry>();
  /** Streams with lost data or a lost FIN to send again. */
  private readonly retransmitQ = new Set<Entry>();
  /** Streams with new data (or a lone FIN) they may send now: iterated round-robin. */
  private readonly sendQ = new Set<Entry>();
  /** Streams with new data waiting only for connection credit. */
  private readonly connBlockedQ = new Set<Entry>();

  private events: StreamEvent[] = [];
  private eventHead = 0;

  constructor(options: StreamManagerOptions) {
    this.role = options.role;
    this.local = options.local;
    this.sendBufferSize = options.sendBufferSize ?? DEFAULT_SEND_BUFFER;
    if (!(this.sendBufferSize >= 1 && Number.isSafeInteger(this.sendBufferSize))) {
      throw new StreamError('ERR_STREAM_LIMIT', -1, `sendBufferSize ${this.sendBufferSize} must be a positive integer`);
    }
    this.retainViews = options.retainReceivedViews ?? true;
    this.maxSegments = options.maxReceiveSegments ?? DEFAULT_MAX_SEGMENTS;
    if (!(this.maxSegments >= 2 && Number.isSafeInteger(this.maxSegments))) {
      throw new StreamError('ERR_STREAM_LIMIT', -1, `maxReceiveSegments ${this.maxSegments} must be an integer >= 2`);
    }
    this.connRecv = new RecvWindow(this.local.initialMaxData);
    this.remoteCredit = [new RemoteStreamCredit(this.local.initialMaxStreamsBidi), new RemoteStreamCredit(this.local.initialMaxStreamsUni)];
  }

  // ---------------------------------------------------------------------------------------------
  // peer parameters

  /**
   * Applies the peer's transport parameters (RFC 9000 section 18.2): our
   * connection credit, how many streams we may open, and the initial credit
   * of each stream, including the ones opened before the parameters were
   * known. Limits only ever grow (a smaller value is ignored, as for the
   * MAX_* frames), so remembered 0-RTT values can be followed by the real ones.
   */
  setPeerTransportParameters(peer: StreamLimits): void {
    this.peerBidiLocal = Math.max(this.peerBidiLocal, peer.initialMaxStreamDataBidiLocal);
    this.peerBidiRemote = Math.max(this.peerBidiRemote, peer.initialMaxStreamDataBidiRemote);
    this.peerUni = Math.max(this.peerUni, peer.initialMaxStreamDataUni);
    this.raiseLocalStreams(true, peer.initialMaxStreamsBidi);
    this.raiseLocalStreams(false, peer.initialMaxStreamsUni);
    for (const e of this.streams.values()) {
      if (e.send !== null && e.send.credit.raise(this.initialSendCredit(e))) this.refreshSend(e);
    }
    if (this.connSend.raise(peer.initialMaxData)) this.onConnCreditRaised();
  }

  private initialSendCredit(e: Entry): number {
    return e.local ? (e.bidi ? this.peerBidiRemote : this.peerUni) : this.peerBidiLocal;
  }

  // ---------------------------------------------------------------------------------------------
  // commands

  /**
   * Opens our next stream of the given kind and returns its ID, or null when
   * the peer's limit is reached (a STREAMS_BLOCKED frame is queued and a
   * `streams-available` event follows when the limit rises). Nothing goes on
   * the wire until something is written or the stream is finished.
   */
  openStream(bidi: boolean): number | null {
    const index = this.localCredit[dir(bidi)].open();
    if (index === null) {
      this.openWanted[dir(bidi)] = true;
      return null;
    }
    const id = streamIdOf(streamType(this.role, bidi), index);
    const e: Entry = {
      id,
      local: true,
      bidi,
      send: new SendStream(id, bidi ? this.peerBidiRemote : this.peerUni, this.sendBufferSize),
      recv: bidi ? new RecvStream(id, this.local.initialMaxStreamDataBidiLocal, this.retainViews, this.maxSegments) : null,
    };
    this.streams.set(id, e);
    return id;
  }

  private entry(id: number): Entry {
    const e = this.streams.get(id);
    if (e === undefined) throw new StreamError('ERR_STREAM_UNKNOWN', id, 'no such open stream');
    return e;
  }

  private writable(id: number): [Entry, SendStream] {
    const e = this.entry(id);
    const s = e.send;
    if (s === null) throw new StreamError('ERR_STREAM_NOT_WRITABLE', id, 'receive-only stream');
    if (s.isReset) throw new StreamError('ERR_STREAM_RESET', id, 'the sending part was reset', s.resetCode);
    return [e, s];
  }

  /**
   * Writes as much of `data` as the stream's send buffer takes and returns
   * that count (0 when full: wait for `stream-writable`). The bytes are
   * copied. Raises StreamError on a receive-only, finished or reset stream.
   */
  write(id: number, data: Uint8Array): number {
    const [e, s] = this.writable(id);
    if (s.isFinished) throw new StreamError('ERR_STREAM_FINISHED', id, 'write after finish');
    const n = s.write(data);
    if (n > 0) this.refreshSend(e);
    return n;
  }

  /** How many bytes `write` would take now (0 for a stream that cannot be written). */
  writableBytes(id: number): number {
    const s = this.streams.get(id)?.send;
    return s === undefined || s === null ? 0 : s.capacity;
  }

  /** Ends the sending part after what was written (a FIN). Idempotent; raises StreamError after a reset. */
  finish(id: number): void {
    const [e, s] = this.writable(id);
    if (s.isFinished) return;
    s.finish();
    this.refreshSend(e);
  }

  /**
   * Abandons the sending part with an application error code (RESET_STREAM,
   * RFC 9000 section 19.4). No effect when already reset or when everything
   * was acknowledged.
   */
  resetStream(id: number, errorCode: bigint): void {
    const e = this.entry(id);
    if (e.send === null) throw new StreamError('ERR_STREAM_NOT_WRITABLE', id, 'receive-only stream');
    if (e.send.reset(errorCode)) this.afterReset(e);
  }

  /**
   * Tells the peer we no longer want this stream's data (STOP_SENDING,
   * RFC 9000 section 3.5); buffered and later data is discarded and its
   * credit returned. No effect when already stopped or reset.
   */
  stopSending(id: number, errorCode: bigint): void {
    const e = this.entry(id);
    const r = e.recv;
    if (r === null) throw new StreamError('ERR_STREAM_NOT_READABLE', id, 'send-only stream');
    if (r.stopSending(errorCode, this.connRecv)) {
      if (r.stopPending) this.control.add(e);
      this.maybeDiscard(e);
    }
  }

  /**
   * Reads up to `max` bytes (default: everything readable). Returns null
   * when nothing is readable now; `fin` is true on the read that reaches
   * the end of the stream. The data is the caller's. Reading is what
   * returns flow-control credit to the peer. Raises StreamError on a
   * send-only stream, a stream the peer reset (ERR_STREAM_RESET with its
   * code) or one the application stopped (ERR_STREAM_STOPPED).
   */
  read(id: number, max = Infinity): StreamRead | null {
    const e = this.entry(id);
    const r = e.recv;
    if (r === null) throw new StreamError('ERR_STREAM_NOT_READABLE', id, 'send-only stream');
    if (r.stopCode !== null) throw new StreamError('ERR_STREAM_STOPPED', id, 'the application stopped reading', r.stopCode);
    if (r.resetCode !== null) throw new StreamError('ERR_STREAM_RESET', id, 'the peer reset the stream', r.resetCode);
    const out = r.read(max, this.connRecv);
    if (r.maxStreamDataPending) this.control.add(e);
    this.maybeDiscard(e);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // getters

  /** True if the stream is open (not yet discarded). */
  has(id: number): boolean {
    return this.streams.has(id);
  }

  /** IDs of every open stream. */
  streamIds(): number[] {
    return [...this.streams.keys()];
  }

  /** State of the sending part (RFC 9000 section 3.1), null if none or the stream is unknown. */
  sendState(id: number): SendState | null {
    return this.streams.get(id)?.send?.state ?? null;
  }

  /** State of the receiving part (RFC 9000 section 3.2), null if none or the stream is unknown. */
  recvState(id: number): RecvState | null {
    return this.streams.get(id)?.recv?.state ?? null;
  }

  /** Connection-level counters, for diagnostics and tests. */
  connectionFlow(): {
    readonly sendLimit: number;
    readonly sent: number;
    readonly recvLimit: number;
    readonly received: number;
    readonly consumed: number;
  } {
    return {
      sendLimit: this.connSend.limit,
      sent: this.connSend.used,
      recvLimit: this.connRecv.limit,
      received: this.connRecv.received,
      consumed: this.connRecv.consumed,
    };
  }

  /** Per-stream counters, for diagnostics and tests (null for an unknown stream). */
  streamFlow(id: number): {
    readonly sendLimit: number | null;
    readonly sendOffset: number | null;
    readonly sendBuffered: number | null;
    readonly recvLimit: number | null;
    readonly recvBuffered: number | null;
    readonly recvConsumed: number | null;
    readonly finalSizeReceived: number | null;
  } | null {
    const e = this.streams.get(id);
    if (e === undefined) return null;
    const s = e.send;
    const r = e.recv;
    return {
      sendLimit: s?.credit.limit ?? null,
      sendOffset: s?.sendOffset ?? null,
      sendBuffered: s?.buffered ?? null,
      recvLimit: r?.window.limit ?? null,
      recvBuffered: r?.buffered ?? null,
      recvConsumed: r?.window.consumed ?? null,
      finalSizeReceived: r?.finalSize ?? null,
    };
  }

  /** Limits on stream counts: [bidi, uni] of what we may open and what the peer may open. */
  streamCounts(): {
    readonly localOpened: readonly [number, number];
    readonly localLimit: readonly [number, number];
    readonly remoteOpened: readonly [number, number];
    readonly remoteLimit: readonly [number, number];
  } {
    const [lb, lu] = this.localCredit;
    const [rb, ru] = this.remoteCredit;
    return {
      localOpened: [lb.used, lu.used],
      localLimit: [lb.limit, lu.limit],
      remoteOpened: [rb.opened, ru.opened],
      remoteLimit: [rb.limit, ru.limit],
    };
  }

  // ---------------------------------------------------------------------------------------------
  // input

  /** Dispatches a stream-related frame to its handler. */
  handleFrame(frame: StreamControlFrame): void {
    switch (frame.type) {
      case 'stream':
        return this.handleStreamFrame(frame);
      case 'reset-stream':
        return this.handleResetStreamFrame(frame);
      case 'stop-sending':
        return this.handleStopSendingFrame(frame);
      case 'max-data':
        return this.handleMaxDataFrame(frame);
      case 'max-stream-data':
        return this.handleMaxStreamDataFrame(frame);
      case 'max-streams':
        return this.handleMaxStreamsFrame(frame);
      case 'data-blocked':
        return this.handleDataBlockedFrame(frame);
      case 'stream-data-blocked':
        return this.handleStreamDataBlockedFrame(frame);
      case 'streams-blocked':
        return this.handleStreamsBlockedFrame(frame);
      default: {
        const never: never = frame;
        throw new Error(`not a stream frame: ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * The stream a frame is about, after the stream-ID rules: direction and
   * not-yet-opened checks (STREAM_STATE_ERROR, stream-id.ts), the peer's
   * stream limit (STREAM_LIMIT_ERROR, section 4.6), and implicit opening of
   * the peer's lower-numbered streams of the same type ("a stream ID that is
   * used out of order results in all streams of that type with lower-numbered
   * stream IDs also being opened", section 3.2). Null for a stream that was
   * closed and discarded: late frames for it are ignored.
   */
  private lookup(id: number, part: StreamPart, frameType: number): Entry | null {
    const bidi = isBidirectional(id);
    const local = checkIncomingStreamFrame(id, this.role, part, this.localCredit[dir(bidi)].used, frameType);
    const found = this.streams.get(id);
    if (found !== undefined || local) return found ?? null;
    const credit = this.remoteCredit[dir(bidi)];
    const index = streamIndex(id);
    credit.check(index, id, frameType);
    if (index < credit.opened) return null;
    const type = streamType(this.role === 'client' ? 'server' : 'client', bidi);
    let last: Entry | null = null;
    for (let i = credit.opened; i <= index; i++) {
      const sid = streamIdOf(type, i);
      last = {
        id: sid,
        local: false,
        bidi,
        send: bidi ? new SendStream(sid, this.peerBidiLocal, this.sendBufferSize) : null,
        recv: new RecvStream(
          sid,
          bidi ? this.local.initialMaxStreamDataBidiRemote : this.local.initialMaxStreamDataUni,
          this.retainViews,
          this.maxSegments,
        ),
      };
      this.streams.set(sid, last);
      this.emit({ type: 'stream-opened', streamId: sid, bidi });
    }
    credit.opened = index + 1;
    return last;
  }

  /** STREAM (RFC 9000 section 19.8): data for the receiving part; flow control and final size checked. */
  handleStreamFrame(frame: StreamFrame): void {
    const e = this.lookup(frame.streamId, 'receive', T_STREAM);
    if (e === null) return;
    const r = e.recv!;
    r.handleStream(frame.offset, frame.data, frame.fin, this.connRecv);
    if (r.readable && !r.readableNotified) {
      r.readableNotified = true;
      this.emit({ type: 'stream-readable', streamId: e.id });
    }
    this.maybeDiscard(e);
  }

  /** RESET_STREAM (RFC 9000 section 19.4): the peer abandons its sending part. */
  handleResetStreamFrame(frame: ResetStreamFrame): void {
    const e = this.lookup(frame.streamId, 'receive', T_RESET_STREAM);
    if (e === null) return;
    const r = e.recv!;
    const reset = r.handleReset(frame.errorCode, frame.finalSize, this.connRecv);
    if (reset !== null) {
      this.emit({ type: 'stream-reset', streamId: e.id, errorCode: reset.errorCode, finalSize: reset.finalSize });
      // The event is how the application learns of the reset: "App Read Reset" (section 3.2).
      r.onResetDelivered();
    }
    this.maybeDiscard(e);
  }

  /** STOP_SENDING (RFC 9000 section 19.5): reset our sending part with the peer's code (section 3.5). */
  handleStopSendingFrame(frame: StopSendingFrame): void {
    const e = this.lookup(frame.streamId, 'send', T_STOP_SENDING);
    if (e === null) return;
    // Section 3.5: "An endpoint SHOULD copy the error code from the STOP_SENDING frame to the RESET_STREAM
    // frame it sends". In Data Sent we reset at once rather than defer (allowed: "MAY defer").
    if (e.send!.reset(frame.errorCode)) {
      this.afterReset(e);
      this.emit({ type: 'stream-stop-sending', streamId: e.id, errorCode: frame.errorCode });
    }
  }

  /** MAX_STREAM_DATA (RFC 9000 section 19.10): more credit on one of our sending parts. */
  handleMaxStreamDataFrame(frame: MaxStreamDataFrame): void {
    const e = this.lookup(frame.streamId, 'send', T_MAX_STREAM_DATA);
    if (e === null) return;
    if (e.send!.credit.raise(frame.maximum)) this.refreshSend(e);
  }

  /** STREAM_DATA_BLOCKED (RFC 9000 section 19.13): informational; it may open the peer's stream. */
  handleStreamDataBlockedFrame(frame: StreamDataBlockedFrame): void {
    this.lookup(frame.streamId, 'receive', T_STREAM_DATA_BLOCKED);
  }

  /** MAX_DATA (RFC 9000 section 19.9). */
  handleMaxDataFrame(frame: MaxDataFrame): void {
    if (this.connSend.raise(frame.maximum)) this.onConnCreditRaised();
  }

  /** DATA_BLOCKED (RFC 9000 section 19.12): informational (our MAX_DATA follows reads, not requests). */
  handleDataBlockedFrame(_frame: DataBlockedFrame): void {}

  /** MAX_STREAMS (RFC 9000 section 19.11). */
  handleMaxStreamsFrame(frame: MaxStreamsFrame): void {
    this.raiseLocalStreams(frame.bidi, frame.maximum);
  }

  /** STREAMS_BLOCKED (RFC 9000 section 19.14): informational (our MAX_STREAMS follows closures). */
  handleStreamsBlockedFrame(_frame: StreamsBlockedFrame): void {}

  private raiseLocalStreams(bidi: boolean, maximum: number): void {
    const d = dir(bidi);
    if (this.localCredit[d].raise(Math.min(maximum, MAX_LOCAL_STREAMS)) && this.openWanted[d]) {
      this.openWanted[d] = false;
      this.emit({ type: 'streams-available', bidi });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // output

  /**
   * True if {@link nextFrame} has something to send given enough room
   * (it may still return null when the room is too small).
   */
  hasPendingFrames(): boolean {
    if (this.connRecv.updatePending || this.connSend.blockedPending) return true;
    for (let d = 0; d < 2; d++) if (this.remoteCredit[d]!.updatePending || this.localCredit[d]!.blockedPending) return true;
    if (this.retransmitQ.size > 0 || this.sendQ.size > 0) return true;
    for (const e of this.control) {
      if (this.hasControl(e)) return true;
      this.control.delete(e);
    }
    return false;
  }

  private hasControl(e: Entry): boolean {
    const s = e.send;
    const r = e.recv;
    return (s !== null && (s.resetPending || s.blockedPending)) || (r !== null && (r.stopPending || r.maxStreamDataPending));
  }

  /**
   * The next frame to send within `room` bytes (its encoded size, with an
   * explicit Length for STREAM frames, is at most `room`), or null when
   * nothing pending fits. The connection encodes `frame` into the packet and
   * keeps `record` for {@link onFrameAcked} / {@link onFrameLost}. STREAM
   * data is a view of the send buffer: encode it before the next call that
   * changes stream state (it stays valid; the buffer never rewrites bytes).
   */
  nextFrame(room: number): ProducedFrame | null {
    if (!(room > 0)) return null;
    return this.nextConnectionControl(room) ?? this.nextStreamControl(room) ?? this.nextRetransmit(room) ?? this.nextNewData(room);
  }

  private fits<F extends Frame>(frame: F, room: number): boolean {
    return frameSize(frame) <= room;
  }

  private nextConnectionControl(room: number): ProducedFrame | null {
    const cr = this.connRecv;
    if (cr.updatePending) {
      const frame: MaxDataFrame = { type: 'max-data', maximum: cr.peekUpdate() };
      if (this.fits(frame, room)) {
        cr.takeUpdate();
        return { frame, record: { kind: 'max-data', maximum: frame.maximum } };
      }
    }
    for (const bidi of [true, false]) {
      const rc = this.remoteCredit[dir(bidi)];
      if (rc.updatePending) {
        const frame: MaxStreamsFrame = { type: 'max-streams', bidi, maximum: rc.peekUpdate() };
        if (this.fits(frame, room)) {
          rc.takeUpdate();
          return { frame, record: { kind: 'max-streams', bidi, maximum: frame.maximum } };
        }
      }
    }
    const cs = this.connSend;
    if (cs.blockedPending) {
      const frame: DataBlockedFrame = { type: 'data-blocked', limit: cs.limit };
      if (this.fits(frame, room)) {
        cs.onBlockedSent();
        return { frame, record: { kind: 'data-blocked', limit: frame.limit } };
      }
    }
    for (const bidi of [true, false]) {
      const lc = this.localCredit[dir(bidi)];
      if (lc.blockedPending) {
        const frame: StreamsBlockedFrame = { type: 'streams-blocked', bidi, limit: lc.limit };
        if (this.fits(frame, room)) {
          lc.onBlockedSent();
          return { frame, record: { kind: 'streams-blocked', bidi, limit: frame.limit } };
        }
      }
    }
    return null;
  }

  private nextStreamControl(room: number): ProducedFrame | null {
    for (const e of this.control) {
      const p = this.streamControlFrame(e, room);
      if (p !== null) {
        if (!this.hasControl(e)) this.control.delete(e);
        return p;
      }
      if (!this.hasControl(e)) this.control.delete(e);
    }
    return null;
  }

  private streamControlFrame(e: Entry, room: number): ProducedFrame | null {
    const s = e.send;
    const r = e.recv;
    const id = e.id;
    if (s !== null && s.resetPending) {
      const frame: ResetStreamFrame = { type: 'reset-stream', streamId: id, errorCode: s.resetCode!, finalSize: s.finalSize! };
      if (this.fits(frame, room)) {
        s.resetPending = false;
        return { frame, record: { kind: 'reset-stream', streamId: id } };
      }
    }
    if (r !== null && r.stopPending) {
      const frame: StopSendingFrame = { type: 'stop-sending', streamId: id, errorCode: r.stopCode! };
      if (this.fits(frame, room)) {
        r.stopPending = false;
        return { frame, record: { kind: 'stop-sending', streamId: id } };
      }
    }
    if (r !== null && r.maxStreamDataPending) {
      const frame: MaxStreamDataFrame = { type: 'max-stream-data', streamId: id, maximum: r.window.peekUpdate() };
      if (this.fits(frame, room)) {
        r.window.takeUpdate();
        return { frame, record: { kind: 'max-stream-data', streamId: id, maximum: frame.maximum } };
      }
    }
    if (s !== null && s.blockedPending) {
      const frame: StreamDataBlockedFrame = { type: 'stream-data-blocked', streamId: id, limit: s.credit.limit };
      if (this.fits(frame, room)) {
        s.onBlockedSent();
        return { frame, record: { kind: 'stream-data-blocked', streamId: id, limit: frame.limit } };
      }
    }
    return null;
  }

  private streamFrame(e: Entry, p: StreamPiece): ProducedFrame {
    return {
      frame: { type: 'stream', streamId: e.id, offset: p.offset, fin: p.fin, data: p.data },
      record: { kind: 'stream', streamId: e.id, offset: p.offset, length: p.data.length, fin: p.fin },
    };
  }

  private nextRetransmit(room: number): ProducedFrame | null {
    for (const e of this.retransmitQ) {
      const s = e.send!;
      const p = s.nextRetransmit(room);
      if (!s.hasRetransmit) this.retransmitQ.delete(e);
      if (p !== null) return this.streamFrame(e, p);
    }
    return null;
  }

  private nextNewData(room: number): ProducedFrame | null {
    for (const e of this.sendQ) {
      const s = e.send!;
      const p = s.nextNew(room, this.connSend.available);
      if (p === null) {
        // Nothing fits, or nothing may be sent any more: re-decide where the stream waits.
        this.refreshSend(e);
        continue;
      }
      this.connSend.consume(p.data.length);
      // Round-robin: this stream goes to the back of the queue.
      this.sendQ.delete(e);
      this.refreshSend(e);
      if (this.connSend.available <= 0) this.onConnCreditExhausted();
      return this.streamFrame(e, p);
    }
    return null;
  }

  /** Connection credit ran out: streams that need it wait in connBlockedQ; DATA_BLOCKED once per limit. */
  private onConnCreditExhausted(): void {
    for (const e of this.sendQ) {
      if (e.send!.unsent > 0) {
        this.sendQ.delete(e);
        this.connBlockedQ.add(e);
        this.connSend.noteBlocked();
      }
    }
  }

  private onConnCreditRaised(): void {
    const waiting = [...this.connBlockedQ];
    this.connBlockedQ.clear();
    for (const e of waiting) this.refreshSend(e);
  }

  /** The one place that decides which send queues a stream belongs to. */
  private refreshSend(e: Entry): void {
    const s = e.send;
    if (s === null) return;
    if (s.hasRetransmit) this.retransmitQ.add(e);
    else this.retransmitQ.delete(e);
    if (s.checkSendNew()) {
      if (s.unsent === 0 || this.connSend.available > 0) {
        this.connBlockedQ.delete(e);
        this.sendQ.add(e);
      } else {
        this.sendQ.delete(e);
        this.connBlockedQ.add(e);
        this.connSend.noteBlocked();
      }
    } else {
      this.sendQ.delete(e);
      this.connBlockedQ.delete(e);
    }
    if (s.blockedPending || s.resetPending) this.control.add(e);
  }

  private afterReset(e: Entry): void {
    this.retransmitQ.delete(e);
    this.sendQ.delete(e);
    this.connBlockedQ.delete(e);
    this.control.add(e);
  }

  /** A frame produced by {@link nextFrame} was acknowledged. */
  onFrameAcked(record: StreamFrameRecord): void {
    switch (record.kind) {
      case 'stream': {
        const e = this.streams.get(record.streamId);
        const s = e?.send;
        if (e === undefined || s === null || s === undefined) return;
        const done = s.onAcked(record.offset, record.length, record.fin);
        if (s.wantWritable && s.capacity * 2 >= s.maxBuffered) {
          s.wantWritable = false;
          this.emit({ type: 'stream-writable', streamId: e.id });
        }
        if (done) {
          this.emit({ type: 'stream-finished', streamId: e.id });
          this.refreshSend(e);
          this.maybeDiscard(e);
        }
        return;
      }
      case 'reset-stream': {
        const e = this.streams.get(record.streamId);
        if (e === undefined || e.send === null) return;
        e.send.onResetAcked();
        this.maybeDiscard(e);
        return;
      }
      case 'stop-sending':
      case 'max-stream-data':
      case 'stream-data-blocked':
      case 'max-data':
      case 'data-blocked':
      case 'max-streams':
      case 'streams-blocked':
        // Delivered: nothing more to do (section 13.3 only asks to repeat these when lost).
        return;
      default: {
        const never: never = record;
        throw new Error(`unknown record ${JSON.stringify(never)}`);
      }
    }
  }

  /** A frame produced by {@link nextFrame} was declared lost: repeat what RFC 9000 section 13.3 says to repeat. */
  onFrameLost(record: StreamFrameRecord): void {
    switch (record.kind) {
      case 'stream': {
        const e = this.streams.get(record.streamId);
        if (e === undefined || e.send === null) return;
        e.send.onLost(record.offset, record.length, record.fin);
        this.refreshSend(e);
        return;
      }
      case 'reset-stream': {
        const e = this.streams.get(record.streamId);
        if (e === undefined || e.send === null) return;
        e.send.onResetLost();
        if (e.send.resetPending) this.control.add(e);
        return;
      }
      case 'stop-sending': {
        const e = this.streams.get(record.streamId);
        if (e === undefined || e.recv === null) return;
        e.recv.onStopLost();
        if (e.recv.stopPending) this.control.add(e);
        return;
      }
      case 'max-stream-data': {
        const e = this.streams.get(record.streamId);
        if (e === undefined || e.recv === null) return;
        e.recv.window.onUpdateLost(record.maximum);
        if (e.recv.maxStreamDataPending) this.control.add(e);
        return;
      }
      case 'stream-data-blocked': {
        const e = this.streams.get(record.streamId);
        if (e === undefined || e.send === null) return;
        e.send.credit.onBlockedLost(record.limit);
        if (e.send.blockedPending) this.control.add(e);
        return;
      }
      case 'max-data':
        this.connRecv.onUpdateLost(record.maximum);
        return;
      case 'data-blocked':
        this.connSend.onBlockedLost(record.limit);
        return;
      case 'max-streams':
        this.remoteCredit[dir(record.bidi)].onUpdateLost(record.maximum);
        return;
      case 'streams-blocked':
        this.localCredit[dir(record.bidi)].onBlockedLost(record.limit);
        return;
      default: {
        const never: never = record;
        throw new Error(`unknown record ${JSON.stringify(never)}`);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // events and closing

  /** The next event, or null. */
  pollEvent(): StreamEvent | null {
    while (this.eventHead < this.events.length) {
      const event = this.events[this.eventHead++]!;
      // A `stream-writable` hint queued before the sending part was reset (by STOP_SENDING or by us) or
      // discarded is no longer true when it is read: drop it (hint events hold when delivered).
      if (event.type === 'stream-writable' && this.streams.get(event.streamId)?.send?.isReset !== false) continue;
      return event;
    }
    if (this.events.length > 0) {
      this.events = [];
      this.eventHead = 0;
    }
    return null;
  }

  private emit(event: StreamEvent): void {
    this.events.push(event);
  }

  /**
   * Discards a stream whose parts are all terminal (send: Data Recvd or
   * Reset Recvd; receive: Data Read or Reset Read). A peer's stream gives
   * its credit back (MAX_STREAMS, section 4.6).
   */
  private maybeDiscard(e: Entry): void {
    if ((e.send !== null && !e.send.terminal) || (e.recv !== null && !e.recv.terminal)) return;
    this.streams.delete(e.id);
    this.control.delete(e);
    this.retransmitQ.delete(e);
    this.sendQ.delete(e);
    this.connBlockedQ.delete(e);
    this.emit({ type: 'stream-closed', streamId: e.id });
    if (!isLocallyInitiated(e.id, this.role)) this.remoteCredit[dir(e.bidi)].onClosed();
  }
}
