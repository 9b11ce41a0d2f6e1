import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecvWindow } from '../../../src/quic/streams/flow.js';
import { RecvStream } from '../../../src/quic/streams/recv.js';
import { streamBytes, transportError } from './support.js';

const ID = 1;
const bytes = (offset: number, len: number): Uint8Array => streamBytes(ID, offset, len);

function setup(streamWindow = 1000, connWindow = 10_000): { r: RecvStream; conn: RecvWindow } {
  return { r: new RecvStream(ID, streamWindow, true), conn: new RecvWindow(connWindow) };
}

describe('RecvStream final size (RFC 9000 4.5)', () => {
  it('data beyond a known final size is FINAL_SIZE_ERROR', () => {
    const { r, conn } = setup();
    r.handleStream(0, bytes(0, 10), true, conn);
    transportError(() => r.handleStream(10, bytes(10, 1), false, conn), 'FINAL_SIZE_ERROR', 0x08);
    transportError(() => r.handleStream(5, bytes(5, 6), false, conn), 'FINAL_SIZE_ERROR', 0x08);
  });

  it('a FIN that changes the final size is FINAL_SIZE_ERROR; the same FIN again is fine', () => {
    const { r, conn } = setup();
    r.handleStream(0, bytes(0, 10), true, conn);
    r.handleStream(5, bytes(5, 5), true, conn);
    transportError(() => r.handleStream(0, bytes(0, 9), true, conn), 'FINAL_SIZE_ERROR');
    transportError(() => r.handleStream(0, bytes(0, 11), true, conn), 'FINAL_SIZE_ERROR');
  });

  it('a FIN below the data already received is FINAL_SIZE_ERROR', () => {
    const { r, conn } = setup();
    r.handleStream(20, bytes(20, 10), false, conn);
    transportError(() => r.handleStream(0, bytes(0, 25), true, conn), 'FINAL_SIZE_ERROR');
  });

  it('RESET_STREAM with a final size other than the FIN, or below the data received: FINAL_SIZE_ERROR', () => {
    const a = setup();
    a.r.handleStream(0, bytes(0, 10), true, a.conn);
    transportError(() => a.r.handleReset(1n, 11, a.conn), 'FINAL_SIZE_ERROR', 0x04);
    const b = setup();
    b.r.handleStream(0, bytes(0, 10), false, b.conn);
    transportError(() => b.r.handleReset(1n, 9, b.conn), 'FINAL_SIZE_ERROR', 0x04);
  });

  it('data after a RESET_STREAM is checked against its final size, even in Reset Read', () => {
    const { r, conn } = setup();
    assert.deepEqual(r.handleReset(7n, 10, conn), { errorCode: 7n, finalSize: 10 });
    r.onResetDelivered();
    assert.equal(r.state, 'reset-read');
    r.handleStream(0, bytes(0, 10), true, conn);
    transportError(() => r.handleStream(10, bytes(10, 1), false, conn), 'FINAL_SIZE_ERROR');
  });
});

describe('RecvStream flow control (RFC 9000 4.1)', () => {
  it('data beyond the stream limit is FLOW_CONTROL_ERROR', () => {
    const { r, conn } = setup(100);
    r.handleStream(0, bytes(0, 100), false, conn);
    transportError(() => r.handleStream(100, bytes(100, 1), false, conn), 'FLOW_CONTROL_ERROR', 0x08);
  });

  it('the connection limit counts the highest offset of each stream once, duplicates excluded', () => {
    const conn = new RecvWindow(150);
    const a = new RecvStream(0, 1000, true);
    const b = new RecvStream(4, 1000, true);
    a.handleStream(0, bytes(0, 100), false, conn);
    a.handleStream(0, bytes(0, 100), false, conn);
    a.handleStream(50, bytes(50, 20), false, conn);
    assert.equal(conn.received, 100);
    b.handleStream(40, bytes(40, 10), false, conn);
    assert.equal(conn.received, 150, 'a gap counts: the highest offset is what is charged');
    transportError(() => b.handleStream(50, bytes(50, 1), false, conn), 'FLOW_CONTROL_ERROR');
    // Nothing changed on the failed frame.
    assert.equal(conn.received, 150);
    assert.equal(b.highestReceived, 50);
  });

  it('RFC 9000 4.5: a RESET_STREAM final size counts toward connection flow control', () => {
    const conn = new RecvWindow(100);
    const r = new RecvStream(0, 1000, true);
    r.handleStream(0, bytes(0, 10), false, conn);
    transportError(() => r.handleReset(0n, 101, conn), 'FLOW_CONTROL_ERROR', 0x04);
    r.handleReset(0n, 100, conn);
    assert.equal(conn.received, 100);
  });

  it('STYLE habit 9: MAX_STREAM_DATA becomes due as the application reads, not as data arrives', () => {
    const { r, conn } = setup(100);
    r.handleStream(0, bytes(0, 100), false, conn);
    assert.equal(r.maxStreamDataPending, false);
    r.read(49, conn);
    assert.equal(r.maxStreamDataPending, false);
    r.read(1, conn);
    assert.equal(r.maxStreamDataPending, true);
    assert.equal(r.window.takeUpdate(), 150);
    assert.equal(conn.consumed, 50);
  });

  it('RFC 9000 3.3: no MAX_STREAM_DATA once the final size is known', () => {
    const { r, conn } = setup(100);
    r.handleStream(0, bytes(0, 80), false, conn);
    r.handleStream(80, bytes(80, 10), true, conn);
    r.read(90, conn);
    assert.equal(r.window.updatePending, true);
    assert.equal(r.maxStreamDataPending, false);
  });
});

describe('RecvStream states (RFC 9000 3.2)', () => {
  it('Recv -> Size Known -> Data Recvd -> Data Read, the FIN reported with the last bytes', () => {
    const { r, conn } = setup();
    r.handleStream(5, bytes(5, 5), true, conn);
    assert.equal(r.state, 'size-known');
    assert.equal(r.readable, false);
    r.handleStream(0, bytes(0, 5), false, conn);
    assert.equal(r.state, 'data-recvd');
    const got = r.read(Infinity, conn);
    assert.deepEqual(got, { data: bytes(0, 10), fin: true });
    assert.equal(r.state, 'data-read');
    assert.equal(r.terminal, true);
    assert.equal(r.read(10, conn), null);
  });

  it('an empty stream: a FIN at offset 0 reads as empty data with fin', () => {
    const { r, conn } = setup();
    r.handleStream(0, new Uint8Array(0), true, conn);
    assert.equal(r.readable, true);
    const got = r.read(10, conn);
    assert.equal(got?.fin, true);
    assert.equal(got?.data.length, 0);
    assert.equal(r.state, 'data-read');
  });

  it('RESET_STREAM: Reset Recvd, held data dropped and its connection credit returned', () => {
    const { r, conn } = setup(1000, 1000);
    r.handleStream(0, bytes(0, 300), false, conn);
    r.handleStream(500, bytes(500, 100), false, conn);
    r.read(100, conn);
    assert.equal(conn.consumed, 100);
    assert.ok(r.handleReset(3n, 700, conn));
    assert.equal(r.state, 'reset-recvd');
    assert.equal(r.buffered, 0);
    assert.equal(conn.received, 700);
    assert.equal(conn.consumed, 700, 'the whole final size is consumed: nobody will read it');
    assert.equal(r.readable, false);
    assert.equal(r.handleReset(3n, 700, conn), null, 'a repeated RESET_STREAM changes nothing');
  });

  it('a RESET_STREAM in Data Recvd is ignored: the data is all there', () => {
    const { r, conn } = setup();
    r.handleStream(0, bytes(0, 10), true, conn);
    assert.equal(r.state, 'data-recvd');
    assert.equal(r.handleReset(1n, 10, conn), null);
    assert.equal(r.state, 'data-recvd');
    assert.deepEqual(r.read(100, conn)?.data, bytes(0, 10));
  });

  it('RFC 9000 3.5: STOP_SENDING discards held and later data, returns its credit, and is repeated until a reset', () => {
    const { r, conn } = setup(1000, 1000);
    r.handleStream(0, bytes(0, 200), false, conn);
    assert.equal(r.stopSending(9n, conn), true);
    assert.equal(r.stopPending, true);
    assert.equal(r.buffered, 0);
    assert.equal(conn.consumed, 200);
    r.handleStream(200, bytes(200, 100), false, conn);
    assert.equal(conn.consumed, 300, 'data after STOP_SENDING still counts, and is consumed at once');
    assert.equal(r.readable, false);
    r.stopPending = false;
    r.onStopLost();
    assert.equal(r.stopPending, true);
    r.stopPending = false;
    r.handleReset(9n, 300, conn);
    r.onStopLost();
    assert.equal(r.stopPending, false, 'no STOP_SENDING after the reset arrived');
    assert.equal(r.stopSending(9n, conn), false);
  });

  it('a stopped stream whose data all arrives is done (Data Read) without a reader', () => {
    const { r, conn } = setup();
    r.stopSending(1n, conn);
    r.handleStream(0, bytes(0, 10), true, conn);
    assert.equal(r.state, 'data-read');
    assert.equal(conn.consumed, 10);
  });
});

describe('RecvStream fragmentation defence (RFC 9000 21.7)', () => {
  it('1-byte frames in reverse order are merged, not refused, and read back intact', () => {
    const conn = new RecvWindow(100_000);
    const r = new RecvStream(ID, 100_000, true, 64);
    for (let off = 9999; off >= 0; off--) r.handleStream(off, bytes(off, 1), off === 9999, conn);
    assert.equal(r.state, 'data-recvd');
    assert.deepEqual(r.read(Infinity, conn), { data: bytes(0, 10_000), fin: true });
  });

  it('more gaps than half the limit is INTERNAL_ERROR', () => {
    const conn = new RecvWindow(100_000);
    const r = new RecvStream(ID, 100_000, true, 64);
    let off = 1;
    for (; off <= 2 * 64; off += 2) r.handleStream(off, bytes(off, 1), false, conn);
    transportError(() => r.handleStream(off, bytes(off, 1), false, conn), 'INTERNAL_ERROR', 0x08);
  });
});
