/**
 * qlog output of the Node adapter: one file per connection in the JSON-SEQ
 * serialization of qlog 0.3 (draft-ietf-quic-qlog-main-schema, RFC 7464
 * records: each record starts with the Record Separator 0x1E and ends with a
 * line feed). The first record is the header (qlog_version, qlog_format,
 * the trace's vantage point and common fields); every later record is one
 * event of the engine's qlog sink (`transport:packet_sent`, ...). Tools:
 * qvis (https://qvis.quictools.info) loads `.sqlog` files.
 *
 * Event times are the engine's clock (epoch ms in the adapter, see
 * clock.ts), so the header's `reference_time` is 0 (the epoch) with
 * `time_format: "relative"`.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { QlogEvent } from '../connection/trace.js';

const RS = '\x1e';
/** Buffered text written to the file in pieces of about this many characters. */
const WRITE_CHUNK = 64 * 1024;

/** JSON.stringify replacer: qlog numbers may come as bigint (error codes); bytes are never logged. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  return value;
}

/** What names the trace: known once the connection exists. */
export interface QlogTraceInfo {
  readonly role: 'client' | 'server';
  /** The connection's original Destination Connection ID, hex (the qlog group id). */
  readonly odcid: string;
}

let fileCounter = 0;

/**
 * Collects one connection's qlog events and writes them to
 * `<dir>/<odcid>-<role>-<n>.sqlog`. Events that arrive before {@link bind}
 * (the engine logs while the connection is being created) are held and
 * written after the header.
 */
export class QlogWriter {
  private readonly dir: string;
  private pending: string[] = [];
  private pendingLength = 0;
  private out: WriteStream | null = null;
  private closed = false;
  /** The file, once bound. */
  path: string | null = null;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The engine's qlog sink. */
  readonly sink = (event: QlogEvent): void => {
    if (this.closed) return;
    const text = `${RS}${JSON.stringify({ time: event.time, name: event.name, data: event.data }, replacer)}\n`;
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.out !== null && this.pendingLength >= WRITE_CHUNK) this.write();
  };

  /** Opens the file and writes the header and the events held so far. */
  bind(info: QlogTraceInfo): void {
    if (this.out !== null || this.closed) return;
    mkdirSync(this.dir, { recursive: true });
    this.path = join(this.dir, `${info.odcid}-${info.role}-${process.pid}-${++fileCounter}.sqlog`);
    this.out = createWriteStream(this.path);
    // Errors writing a debug trace must not take the connection down: report once on stderr.
    this.out.on('error', (e) => {
      if (!this.closed) process.emitWarning(`qlog ${this.path}: ${e.message}`);
      this.closed = true;
    });
    const header = {
      qlog_version: '0.3',
      qlog_format: 'JSON-SEQ',
      title: `pullwire ${info.role} ${info.odcid}`,
      trace: {
        vantage_point: { name: 'pullwire', type: info.role },
        common_fields: {
          ODCID: info.odcid,
          group_id: info.odcid,
          protocol_type: ['QUIC'],
          time_format: 'relative',
          reference_time: 0,
        },
      },
    };
    this.pending.unshift(`${RS}${JSON.stringify(header)}\n`);
    this.write();
  }

  private write(): void {
    if (this.out === null || this.pending.length === 0) return;
    this.out.write(this.pending.join(''));
    this.pending = [];
    this.pendingLength = 0;
  }

  /** Writes what is held and closes the file; resolves once it is on disk (at once when never bound). */
  close(): Promise<void> {
    if (this.closed && this.out === null) return Promise.resolve();
    const out = this.out;
    this.write();
    this.closed = true;
    this.pending = [];
    this.out = null;
    if (out === null) return Promise.resolve();
    return new Promise((resolve) => {
      if (out.closed) return resolve();
      out.once('close', () => resolve());
      out.end();
    });
  }
}
