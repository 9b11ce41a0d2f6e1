/**
 * The state of one request stream (a client-initiated bidirectional QUIC
 * stream, RFC 9114 section 6.1) and its sending side: header sections and
 * DATA frames written with QUIC backpressure.
 *
 * Sending keeps almost nothing: a DATA frame is declared for everything
 * `writeData` is given, and whatever the QUIC stream does not take stays
 * the caller's (`frameLeft` payload bytes are owed by the next call). Only
 * bytes we encoded ourselves and cannot re-create are kept (`owed`): the
 * unsent part of a QPACK-encoded header section or of a DATA frame header.
 * A QUIC write cut short arms QUIC's `stream-writable` event.
 */
import { UsageError } from '../combinators/index.js';
import type { Connection } from '../quic/connection/connection.js';
import { StreamError } from '../quic/streams/errors.js';
import { FrameReader, encodeDataFrameHeader } from './frames.js';

/** Receiving side: what the stream expects next. */
export type RecvPhase =
  /** Waiting for the (final) header section. */
  | 'head'
  /** Header section delivered: DATA, trailers or the end follow. */
  | 'body'
  /** Trailers delivered: only the end (and unknown frames) may follow. */
  | 'trailers'
  /** `end`, `reset` or `stream-error` delivered: nothing more. */
  | 'done';

/** Sending side. */
export type SendPhase =
  /** Nothing sent yet (server: no final response yet). */
  | 'head'
  /** Header section sent: DATA, trailers or the end may follow. */
  | 'body'
  /** Finished or reset. */
  | 'done';

export interface RequestStream {
  readonly id: number;
  readonly reader: FrameReader;
  phase: RecvPhase;
  /** A header section waiting for QPACK dynamic table updates (RFC 9204 section 2.1.2). */
  blocked: 'head' | 'trailers' | null;
  /** An interim response was received (client). */
  interimSeen: boolean;
  /** QUIC said the stream is readable and no read has returned null since. */
  quicReadable: boolean;
  /** The QUIC read returned FIN: everything is in `reader`. */
  fin: boolean;
  /** A `data` hint is outstanding (cleared when `readData` returns null). */
  dataNotified: boolean;
  contentLength: number | null;
  /** Sum of the DATA frame lengths received (RFC 9114 section 4.1.2). */
  received: number;
  /** Client: the response never has content (HEAD, 204, 304): Content-Length is not checked. */
  noContent: boolean;
  /** The request method (client: what we sent; server: what we received). */
  method: string;
  send: SendPhase;
  /** Encoded bytes the QUIC stream has not taken yet (a header section, a DATA frame header). */
  owed: Uint8Array | null;
  /** Payload bytes of the open DATA frame the caller still has to pass to `sendData`. */
  frameLeft: number;
  /** `finish` waits for `owed` to be flushed. */
  finPending: boolean;
  /** A write was cut short: emit `stream-writable` when the stream takes bytes again. */
  wantWritable: boolean;
  /** QUIC forgot the stream (`stream-closed`). */
  quicClosed: boolean;
}

/** Slack over maxFieldSectionSize for the encoded HEADERS payload (the QPACK prefix and literal overhead are smaller). */
const FIELD_SECTION_FRAME_SLACK = 1024;
/** Control-only frames on a request stream are refused by type before their payload is read: keep them small. */
const REQUEST_CONTROL_FRAME_LIMIT = 64;

export function newRequestStream(id: number, method: string, maxFieldSectionSize: number): RequestStream {
  return {
    id,
    reader: new FrameReader({
      maxFieldSectionFrame: maxFieldSectionSize + FIELD_SECTION_FRAME_SLACK,
      maxControlFrame: REQUEST_CONTROL_FRAME_LIMIT,
    }),
    phase: 'head',
    blocked: null,
    interimSeen: false,
    quicReadable: false,
    fin: false,
    dataNotified: false,
    contentLength: null,
    received: 0,
    noContent: false,
    method,
    send: 'head',
    owed: null,
    frameLeft: 0,
    finPending: false,
    wantWritable: false,
    quicClosed: false,
  };
}

/** Queues encoded bytes (a header section) behind anything owed and writes what the stream takes. */
export function queueOwed(quic: Connection, st: RequestStream, bytes: Uint8Array): void {
  st.owed = st.owed === null ? bytes : concat(st.owed, bytes);
  if (!flushOwed(quic, st)) st.wantWritable = true;
}

/** Writes `owed` (then a pending FIN); true when nothing is owed any more. */
export function flushOwed(quic: Connection, st: RequestStream): boolean {
  const owed = st.owed;
  if (owed !== null) {
    if (st.quicClosed) {
      st.owed = null;
      return true;
    }
    const n = quic.streamWrite(st.id, owed);
    if (n < owed.length) {
      st.owed = owed.subarray(n);
      return false;
    }
    st.owed = null;
  }
  if (st.finPending) {
    st.finPending = false;
    quic.streamFinish(st.id);
  }
  return true;
}

/**
 * Writes `data` as DATA payload and returns how many bytes the stream took.
 * A frame is declared for everything given; if the stream takes less, the
 * frame stays open (`frameLeft`) and the next call continues its payload.
 */
export function writeData(quic: Connection, st: RequestStream, data: Uint8Array): number {
  if (!flushOwed(quic, st)) {
    st.wantWritable = true;
    return 0;
  }
  let off = 0;
  while (off < data.length) {
    if (st.frameLeft === 0) {
      st.frameLeft = data.length - off;
      st.owed = encodeDataFrameHeader(st.frameLeft);
      if (!flushOwed(quic, st)) {
        st.wantWritable = true;
        return off;
      }
    }
    const k = Math.min(st.frameLeft, data.length - off);
    const n = quic.streamWrite(st.id, off === 0 && k === data.length ? data : data.subarray(off, off + k));
    st.frameLeft -= n;
    off += n;
    if (n < k) {
      st.wantWritable = true;
      return off;
    }
  }
  return off;
}

/** Ends the sending side (FIN after anything owed). */
export function finishSend(quic: Connection, st: RequestStream): void {
  if (st.frameLeft > 0) throw new UsageError(`${st.frameLeft} bytes of an open DATA frame are still owed`);
  st.send = 'done';
  st.finPending = true;
  flushOwed(quic, st);
}

/** The sending side is over (finished, reset, or stopped by the peer): nothing more goes out. */
export function dropSending(st: RequestStream): void {
  st.send = 'done';
  st.owed = null;
  st.frameLeft = 0;
  st.finPending = false;
}

/**
 * Cancels a QUIC stream in both directions (RFC 9114 section 4.1.1: "an
 * implementation resets the sending parts of streams and aborts reading on
 * the receiving parts"); parts already gone are skipped.
 */
export function abortQuicStream(quic: Connection, id: number, code: number): void {
  try {
    quic.streamStopSending(id, code);
  } catch (e) {
    if (!(e instanceof StreamError)) throw e;
  }
  try {
    quic.streamReset(id, code);
  } catch (e) {
    if (!(e instanceof StreamError)) throw e;
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
