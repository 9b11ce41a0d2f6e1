/**
 * Unidirectional streams (RFC 9114 section 6.2): ours (the control stream
 * and the QPACK encoder and decoder streams, RFC 9204 section 4.2), opened
 * as soon as the peer's stream limit allows and fed from bounded queues; and
 * the peer's, identified by the stream type at their start.
 */
import { parse } from '../combinators/index.js';
import type { Connection } from '../quic/connection/connection.js';
import { UsageError } from '../combinators/index.js';
import { FrameReader, h3varint } from './frames.js';
import { concat } from './request-stream.js';

export type LocalUniKind = 'control' | 'encoder' | 'decoder';
export const LOCAL_UNI_KINDS: readonly LocalUniKind[] = ['control', 'encoder', 'decoder'];

interface LocalUniStream {
  id: number | null;
  /** Bytes queued for the stream (bounded: SETTINGS, GOAWAYs, QPACK instructions). */
  readonly queue: Uint8Array[];
}

/**
 * Our three critical streams. Each starts with its stream type (and the
 * control stream with SETTINGS); bytes written before the stream can be
 * opened wait in its queue. The QUIC layer arms `stream-writable` when a
 * write is cut short; call {@link flush} then.
 */
export class LocalUniStreams {
  private readonly streams: Record<LocalUniKind, LocalUniStream>;

  constructor(
    private readonly quic: Connection,
    first: Record<LocalUniKind, Uint8Array>,
  ) {
    this.streams = {
      control: { id: null, queue: [first.control] },
      encoder: { id: null, queue: [first.encoder] },
      decoder: { id: null, queue: [first.decoder] },
    };
  }

  /**
   * Opens the streams not open yet, control first (section 6.2: "Endpoints
   * SHOULD create the HTTP control stream as well as the unidirectional
   * streams required by mandatory extensions ... first"). Stops at the
   * peer's stream limit (or before its transport parameters): call again on
   * `streams-available`.
   */
  open(): void {
    for (const kind of LOCAL_UNI_KINDS) {
      const s = this.streams[kind];
      if (s.id !== null) continue;
      let id: number | null;
      try {
        id = this.quic.openStream(false);
      } catch (e) {
        if (e instanceof UsageError) return; // the QUIC connection is closing
        throw e;
      }
      if (id === null) return;
      s.id = id;
      this.flush(kind);
    }
  }

  /** Which of our streams `id` is, or null. */
  kindOf(id: number): LocalUniKind | null {
    for (const kind of LOCAL_UNI_KINDS) if (this.streams[kind].id === id) return kind;
    return null;
  }

  write(kind: LocalUniKind, bytes: Uint8Array): void {
    this.streams[kind].queue.push(bytes);
    this.flush(kind);
  }

  flush(kind: LocalUniKind): void {
    const s = this.streams[kind];
    if (s.id === null) return;
    const q = s.queue;
    while (q.length > 0) {
      const first = q[0]!;
      const n = this.quic.streamWrite(s.id, first);
      if (n < first.length) {
        q[0] = first.subarray(n);
        return;
      }
      q.shift();
    }
  }
}

/** What a peer's unidirectional stream turned out to be. */
export type PeerUniKind = 'pending' | 'control' | 'encoder' | 'decoder' | 'ignored';

export interface PeerUniStream {
  readonly id: number;
  kind: PeerUniKind;
  /** The start of the stream type while it is incomplete (at most 7 bytes). */
  typeBytes: Uint8Array | null;
  /** The control stream's frames. */
  reader: FrameReader | null;
}

export function newPeerUniStream(id: number): PeerUniStream {
  return { id, kind: 'pending', typeBytes: null, reader: null };
}

/**
 * Reads the stream type (a varint, section 6.2) from the stream's first
 * bytes: the type and the bytes after it, or null while incomplete.
 */
export function readStreamType(u: PeerUniStream, data: Uint8Array): { type: number; rest: Uint8Array } | null {
  const all = u.typeBytes === null ? data : concat(u.typeBytes, data);
  if (all.length === 0) return null;
  const len = 1 << (all[0]! >> 6);
  if (all.length < len) {
    u.typeBytes = all;
    return null;
  }
  u.typeBytes = null;
  return { type: parse(h3varint, all.subarray(0, len)), rest: all.subarray(len) };
}
