import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writer } from '../../src/combinators/writer.js';
import type { Connection } from '../../src/quic/connection/connection.js';
import { Http3Connection } from '../../src/http3/connection.js';
import { H3 } from '../../src/http3/errors.js';
import type { Http3Event } from '../../src/http3/events.js';
import { encodeFrame, encodeStreamType, type Http3Frame } from '../../src/http3/frames.js';
import { headerValue } from '../../src/http3/fields.js';
import { QpackEncoder, QpackError, type HeaderField } from '../../src/http3/qpack/index.js';
import { concat } from '../support/bytes.js';
import { BodySender, H3Pair, fields, getRequest, patternBytes, readAll } from './support.js';

type EventOf<T extends Http3Event['type']> = Extract<Http3Event, { type: T }>;

function find<T extends Http3Event['type']>(events: readonly Http3Event[], type: T, streamId?: number): EventOf<T> | undefined {
  return events.find((e): e is EventOf<T> => e.type === type && (streamId === undefined || !('streamId' in e) || e.streamId === streamId));
}

/** A server that answers GET /size/N with N pattern bytes (content-length set) and echoes POST bodies. */
function serveFiles(p: H3Pair, options: { trailers?: boolean } = {}): void {
  const senders = new Map<number, BodySender>();
  const posted = new Map<number, Uint8Array[]>();
  const requests = new Map<number, readonly HeaderField[]>();
  p.onServer = (e) => {
    const s = p.server!;
    switch (e.type) {
      case 'headers': {
        requests.set(e.streamId, e.headers);
        const path = headerValue(e.headers, ':path')!;
        if (headerValue(e.headers, ':method') === 'GET') {
          const n = Number(path.split('/')[2] ?? '0');
          const body = patternBytes(n, n);
          s.respond(e.streamId, fields([':status', '200'], ['content-length', String(n)]));
          const sender = new BodySender(s, e.streamId, body, options.trailers === true ? fields(['x-checksum', String(sum(body))]) : null);
          senders.set(e.streamId, sender);
          sender.resume();
        } else {
          posted.set(e.streamId, []);
        }
        return;
      }
      case 'data':
        readAll(s, e.streamId, posted.get(e.streamId)!);
        return;
      case 'end': {
        const body = posted.get(e.streamId);
        if (body === undefined) return;
        // Echo: the body back, with its length as a header.
        const all = concat(...body);
        s.respond(e.streamId, fields([':status', '201'], ['x-received', String(all.length)]));
        const sender = new BodySender(s, e.streamId, all);
        senders.set(e.streamId, sender);
        sender.resume();
        return;
      }
      case 'stream-writable':
        senders.get(e.streamId)?.resume();
        return;
      default:
        return;
    }
  };
}

function sum(b: Uint8Array): number {
  let s = 0;
  for (const x of b) s = (s * 31 + x) >>> 0;
  return s;
}

/** A client that collects responses. */
function collect(
  p: H3Pair,
): Map<number, { headers?: readonly HeaderField[]; body: Uint8Array[]; end: boolean; trailers?: readonly HeaderField[] }> {
  const out = new Map<number, { headers?: readonly HeaderField[]; body: Uint8Array[]; end: boolean; trailers?: readonly HeaderField[] }>();
  const get = (id: number) => {
    let r = out.get(id);
    if (r === undefined) out.set(id, (r = { body: [], end: false }));
    return r;
  };
  const prev = p.onClient;
  p.onClient = (e) => {
    prev(e);
    if (e.type === 'headers') get(e.streamId).headers = e.headers;
    else if (e.type === 'data') readAll(p.client!, e.streamId, get(e.streamId).body);
    else if (e.type === 'trailers') get(e.streamId).trailers = e.trailers;
    else if (e.type === 'end') get(e.streamId).end = true;
  };
  return out;
}

describe('Http3Connection over an in-memory QUIC pair', () => {
  it('exchanges SETTINGS on the control streams, with a greased reserved setting', () => {
    const p = new H3Pair({ clientH3: { maxFieldSectionSize: 12345 } });
    p.connect();
    const s = find(p.serverEvents, 'settings')!;
    assert.equal(s.settings.maxFieldSectionSize, 12345);
    assert.equal(s.settings.qpackMaxTableCapacity, 4096);
    // RFC 9114 section 7.2.4.1: at least one 0x1f * N + 0x21 identifier.
    assert.ok(s.settings.all.some((x) => x.id >= 0x21 && (x.id - 0x21) % 0x1f === 0));
    assert.ok(find(p.clientEvents, 'settings') !== undefined);
  });

  it('GET with a 3 MB streamed body arrives byte-exact, with trailers', () => {
    const p = new H3Pair({ seed: 3 });
    serveFiles(p, { trailers: true });
    const responses = collect(p);
    p.connect();
    const n = 3 * 1024 * 1024;
    const id = p.client!.request(getRequest(`/size/${n}`), { endStream: true })!;
    p.run(() => responses.get(id)?.end === true);
    const r = responses.get(id)!;
    assert.equal(headerValue(r.headers!, ':status'), '200');
    const body = concat(...r.body);
    const expected = patternBytes(n, n);
    assert.equal(body.length, n);
    assert.ok(Buffer.from(body).equals(Buffer.from(expected)), 'body differs');
    assert.equal(headerValue(r.trailers!, 'x-checksum'), String(sum(expected)));
    // The event order of a response: headers, data hints, trailers, end.
    const kinds = p.clientEvents.filter((e) => 'streamId' in e && e.streamId === id).map((e) => e.type);
    assert.equal(kinds[0], 'headers');
    assert.deepEqual(kinds.slice(-2), ['trailers', 'end']);
    assert.ok(kinds.slice(1, -2).every((k) => k === 'data'));
  });

  it('runs 100 concurrent requests', () => {
    const p = new H3Pair({ seed: 4 });
    serveFiles(p);
    const responses = collect(p);
    p.connect();
    const ids: number[] = [];
    for (let i = 0; i < 100; i++) {
      const id = p.client!.request(getRequest(`/size/${1000 + i * 37}`), { endStream: true });
      assert.notEqual(id, null, `request ${i} got no stream`);
      ids.push(id!);
    }
    p.run(() => ids.every((id) => responses.get(id)?.end === true));
    ids.forEach((id, i) => {
      const n = 1000 + i * 37;
      assert.ok(Buffer.from(concat(...responses.get(id)!.body)).equals(Buffer.from(patternBytes(n, n))), `response ${i}`);
    });
    // Every request stream is forgotten once QUIC closed it on both sides.
    p.run(() => p.client!.openRequests.length === 0 && p.server!.openRequests.length === 0);
  });

  it('POST with a body: the server reads it and echoes it back', () => {
    const p = new H3Pair({ seed: 5 });
    serveFiles(p);
    const responses = collect(p);
    p.connect();
    const body = patternBytes(200_000, 9);
    const id = p.client!.request(
      fields(
        [':method', 'POST'],
        [':scheme', 'https'],
        [':authority', 'localhost'],
        [':path', '/upload'],
        ['content-length', String(body.length)],
      ),
    )!;
    const sender = new BodySender(p.client!, id, body);
    const prev = p.onClient;
    p.onClient = (e) => {
      prev(e);
      if (e.type === 'stream-writable' && e.streamId === id) sender.resume();
    };
    sender.resume();
    p.run(() => responses.get(id)?.end === true);
    const r = responses.get(id)!;
    assert.equal(headerValue(r.headers!, ':status'), '201');
    assert.equal(headerValue(r.headers!, 'x-received'), String(body.length));
    assert.ok(Buffer.from(concat(...r.body)).equals(Buffer.from(body)));
  });

  it('uses the QPACK dynamic table: repeated requests get smaller', () => {
    const p = new H3Pair({ seed: 6 });
    serveFiles(p);
    const responses = collect(p);
    p.connect();
    const extra: [string, string][] = [['user-agent', 'pullwire-test/1.0 (a long user agent string to be indexed)']];
    const a = p.client!.request(getRequest('/size/10', extra), { endStream: true })!;
    p.run(() => responses.get(a)?.end === true);
    const b = p.client!.request(getRequest('/size/10', extra), { endStream: true })!;
    p.run(() => responses.get(b)?.end === true);
    assert.deepEqual(
      find(p.serverEvents, 'headers', b)!.headers.map((f) => [f.name, f.value]),
      getRequest('/size/10', extra).map((f) => [f.name, f.value]),
    );
  });

  it('GOAWAY: the server shuts down, finishes the request in flight, rejects later ones, closes with H3_NO_ERROR', () => {
    const p = new H3Pair({ seed: 7 });
    serveFiles(p);
    const responses = collect(p);
    p.connect();
    const first = p.client!.request(getRequest('/size/100000'), { endStream: true })!;
    // Let the request reach the server, then shut down before the second request is sent.
    p.run(() => find(p.serverEvents, 'headers', first) !== undefined);
    p.server!.shutdown();
    // The client sends a second request before the GOAWAY arrives: the server must reject it.
    const second = p.client!.request(getRequest('/size/10'), { endStream: true })!;
    p.run(() => p.clientEvents.some((e) => e.type === 'closed'));
    const goaway = find(p.clientEvents, 'goaway')!;
    assert.equal(goaway.id, first + 4); // the first request stream the server did not see
    assert.ok(responses.get(first)?.end === true, 'the request in flight completed');
    assert.equal(
      responses.get(first)!.body.reduce((n, b) => n + b.length, 0),
      100000,
    );
    // The second request was never processed: rejected (server reset) or cancelled by the client on GOAWAY.
    const resetOrRejected =
      goaway.rejected.includes(second) ||
      p.clientEvents.some((e) => e.type === 'reset' && e.streamId === second && e.errorCode === BigInt(H3.H3_REQUEST_REJECTED));
    assert.ok(resetOrRejected, 'second request rejected');
    assert.equal(find(p.serverEvents, 'headers', second), undefined, 'the server application never saw it');
    const closed = find(p.clientEvents, 'closed')!;
    assert.equal(closed.reason.kind, 'application');
    assert.equal(closed.reason.code, BigInt(H3.H3_NO_ERROR));
    assert.throws(() => p.client!.request(getRequest('/')), { code: 'ERR_USAGE' });
  });

  it('GOAWAY from the client: push ID 0 reaches the server, the response completes, the client closes with H3_NO_ERROR', () => {
    const p = new H3Pair({ seed: 19 });
    serveFiles(p);
    const responses = collect(p);
    p.connect();
    const id = p.client!.request(getRequest('/size/50000'), { endStream: true })!;
    p.client!.shutdown();
    p.run(() => p.serverEvents.some((e) => e.type === 'closed'));
    assert.deepEqual(find(p.serverEvents, 'goaway'), { type: 'goaway', id: 0, rejected: [] });
    assert.equal(responses.get(id)?.end, true);
    const closed = find(p.serverEvents, 'closed')!;
    assert.deepEqual([closed.reason.initiator, closed.reason.code], ['peer', BigInt(H3.H3_NO_ERROR)]);
  });

  it('backpressure: an unread body holds the sender back, nothing piles up', () => {
    const p = new H3Pair({ seed: 8 });
    const n = 3 * 1024 * 1024;
    let sender: BodySender | null = null;
    p.onServer = (e) => {
      if (e.type === 'headers') {
        p.server!.respond(e.streamId, fields([':status', '200']));
        sender = new BodySender(p.server!, e.streamId, patternBytes(n, 1));
        sender.resume();
      } else if (e.type === 'stream-writable') sender?.resume();
    };
    p.connect();
    const id = p.client!.request(getRequest('/big'), { endStream: true })!;
    // The client does not read: the run settles with the server blocked by flow control.
    p.run(() => find(p.clientEvents, 'data', id) !== undefined);
    for (let i = 0; i < 50; i++) p.pair.flush();
    const flow = p.pair.server!.streamIds().includes(id);
    assert.ok(flow);
    assert.equal(sender!.done, false, '3 MiB cannot go into a 1 MiB window plus a 1 MiB send buffer while nobody reads');
    // Now read it all.
    const got: Uint8Array[] = [];
    p.onClient = (e) => {
      if (e.type === 'data') readAll(p.client!, e.streamId, got);
    };
    readAll(p.client!, id, got);
    p.run(() => find(p.clientEvents, 'end', id) !== undefined);
    assert.ok(Buffer.from(concat(...got)).equals(Buffer.from(patternBytes(n, 1))));
  });

  it('interim responses come before the final one', () => {
    const p = new H3Pair({ seed: 9 });
    p.onServer = (e) => {
      if (e.type !== 'headers') return;
      p.server!.respond(e.streamId, fields([':status', '103'], ['link', '</style.css>; rel=preload']));
      p.server!.respond(e.streamId, fields([':status', '204']), { endStream: true });
    };
    p.connect();
    const id = p.client!.request(getRequest('/'), { endStream: true })!;
    p.run(() => find(p.clientEvents, 'end', id) !== undefined);
    const kinds = p.clientEvents.filter((e) => 'streamId' in e && e.streamId === id).map((e) => e.type);
    assert.deepEqual(kinds, ['informational', 'headers', 'end']);
  });

  it('a cancelled request reaches the server as a reset with H3_REQUEST_CANCELLED', () => {
    const p = new H3Pair({ seed: 10 });
    p.connect();
    const id = p.client!.request(getRequest('/slow'))!;
    p.run(() => find(p.serverEvents, 'headers', id) !== undefined);
    p.client!.cancel(id);
    p.run(() => find(p.serverEvents, 'reset', id) !== undefined);
    assert.equal(find(p.serverEvents, 'reset', id)!.errorCode, BigInt(H3.H3_REQUEST_CANCELLED));
  });
});

// ---------------------------------------------------------------------------------------------------
// misbehaving peers, played by hand on a raw QUIC connection

const qpack = (): QpackEncoder => new QpackEncoder({ maxTableCapacity: 0 });

function headersFrame(streamId: number, headers: HeaderField[]): Uint8Array {
  return encodeFrame({ type: 'headers', fieldSection: qpack().encodeFieldSection(streamId, headers) });
}

function frames(...fs: Http3Frame[]): Uint8Array {
  return concat(...fs.map(encodeFrame));
}

const SETTINGS: Http3Frame = { type: 'settings', settings: [] };

/** Opens the raw side's control stream (and QPACK streams) with `controlBytes` after the stream type. */
function rawControl(quic: Connection, controlBytes: Uint8Array, finish = false): number {
  const id = quic.openStream(false)!;
  quic.streamWrite(id, concat(encodeStreamType(0x00), controlBytes));
  if (finish) quic.streamFinish(id);
  return id;
}

/** A raw server whose control stream carries `controlBytes`; returns how the client closed the connection. */
function clientClosesOn(
  controlBytes: Uint8Array,
  options: { finish?: boolean; extra?: (quic: Connection) => void; afterSettings?: (quic: Connection) => void } = {},
): bigint | null {
  const p = new H3Pair({ rawServer: true, seed: 11 });
  let opened = false;
  p.onServerQuic = (e, quic) => {
    if (e.type === 'handshake-completed' && !opened) {
      opened = true;
      rawControl(quic, controlBytes, options.finish === true);
      options.extra?.(quic);
    }
  };
  if (options.afterSettings !== undefined) {
    p.run(() => p.client!.settingsReceived || p.client!.isClosed);
    options.afterSettings(p.pair.server!);
  }
  p.run(() => p.pair.serverEvents.some((e) => e.type === 'closed'));
  const closed = p.pair.serverEvents.find((e) => e.type === 'closed');
  assert.ok(closed !== undefined && closed.type === 'closed');
  assert.equal(closed.reason.kind, 'application');
  assert.equal(closed.reason.initiator, 'peer');
  // The client reports the same code on its side.
  const own = find(p.clientEvents, 'closed')!;
  const err = own.error;
  assert.ok(err !== null, 'the client reports the error it closed with');
  assert.equal(BigInt(err instanceof QpackError ? err.h3Code : err.errorCode), closed.reason.code);
  return closed.reason.code;
}

describe('Http3Connection: connection errors seen by the peer', () => {
  it('a control stream that does not start with SETTINGS: H3_MISSING_SETTINGS', () => {
    assert.equal(clientClosesOn(frames({ type: 'goaway', id: 0 })), BigInt(H3.H3_MISSING_SETTINGS));
    assert.equal(
      clientClosesOn(frames({ type: 'unknown', frameType: 0x21, payload: new Uint8Array(2) }, SETTINGS)),
      BigInt(H3.H3_MISSING_SETTINGS),
    );
  });

  it('a closed control stream: H3_CLOSED_CRITICAL_STREAM', () => {
    assert.equal(clientClosesOn(frames(SETTINGS), { finish: true }), BigInt(H3.H3_CLOSED_CRITICAL_STREAM));
  });

  it('a reset control stream: H3_CLOSED_CRITICAL_STREAM', () => {
    // Once the stream type was read: a reset before it is tolerated (RFC 9114 section 6.2).
    const code = clientClosesOn(frames(SETTINGS), {
      afterSettings: (quic) =>
        quic.streamReset(
          quic.streamIds().find((id) => (id & 3) === 3)!,
          0x100,
        ),
    });
    assert.equal(code, BigInt(H3.H3_CLOSED_CRITICAL_STREAM));
  });

  it('STOP_SENDING on our control stream: H3_CLOSED_CRITICAL_STREAM', () => {
    // The client's first unidirectional stream (ID 2) is its control stream (section 6.2.1).
    const code = clientClosesOn(frames(SETTINGS), { afterSettings: (quic) => quic.streamStopSending(2, 0x100) });
    assert.equal(code, BigInt(H3.H3_CLOSED_CRITICAL_STREAM));
  });

  it('a second SETTINGS: H3_FRAME_UNEXPECTED', () => {
    assert.equal(clientClosesOn(frames(SETTINGS, SETTINGS)), BigInt(H3.H3_FRAME_UNEXPECTED));
  });

  it('DATA or HEADERS on the control stream: H3_FRAME_UNEXPECTED', () => {
    assert.equal(clientClosesOn(frames(SETTINGS, { type: 'data', payload: new Uint8Array(3) })), BigInt(H3.H3_FRAME_UNEXPECTED));
    assert.equal(
      clientClosesOn(frames(SETTINGS, { type: 'headers', fieldSection: new Uint8Array([0, 0]) })),
      BigInt(H3.H3_FRAME_UNEXPECTED),
    );
  });

  it('an HTTP/2-only frame type: H3_FRAME_UNEXPECTED', () => {
    assert.equal(clientClosesOn(concat(frames(SETTINGS), Uint8Array.of(0x06, 0x00))), BigInt(H3.H3_FRAME_UNEXPECTED));
  });

  it('a SETTINGS frame with an HTTP/2 setting or a duplicate: H3_SETTINGS_ERROR', () => {
    assert.equal(clientClosesOn(frames({ type: 'settings', settings: [{ id: 0x4, value: 1 }] })), BigInt(H3.H3_SETTINGS_ERROR));
    const dup = {
      type: 'settings',
      settings: [
        { id: 0x6, value: 1 },
        { id: 0x6, value: 2 },
      ],
    } as const;
    assert.equal(clientClosesOn(frames(dup)), BigInt(H3.H3_SETTINGS_ERROR));
  });

  it('a GOAWAY with a non-request stream ID, or a growing one: H3_ID_ERROR', () => {
    assert.equal(clientClosesOn(frames(SETTINGS, { type: 'goaway', id: 1 })), BigInt(H3.H3_ID_ERROR));
    assert.equal(clientClosesOn(frames(SETTINGS, { type: 'goaway', id: 4 }, { type: 'goaway', id: 8 })), BigInt(H3.H3_ID_ERROR));
  });

  it('MAX_PUSH_ID from a server: H3_FRAME_UNEXPECTED; CANCEL_PUSH: H3_ID_ERROR (no push allowed)', () => {
    assert.equal(clientClosesOn(frames(SETTINGS, { type: 'max-push-id', pushId: 3 })), BigInt(H3.H3_FRAME_UNEXPECTED));
    assert.equal(clientClosesOn(frames(SETTINGS, { type: 'cancel-push', pushId: 0 })), BigInt(H3.H3_ID_ERROR));
  });

  it('a truncated frame payload (GOAWAY with extra bytes): H3_FRAME_ERROR', () => {
    assert.equal(clientClosesOn(concat(frames(SETTINGS), Uint8Array.of(0x07, 0x02, 0x04, 0x00))), BigInt(H3.H3_FRAME_ERROR));
  });

  it('a second control stream: H3_STREAM_CREATION_ERROR; a push stream: H3_ID_ERROR', () => {
    const code = clientClosesOn(frames(SETTINGS), { extra: (quic) => rawControl(quic, frames(SETTINGS)) });
    assert.equal(code, BigInt(H3.H3_STREAM_CREATION_ERROR));
    const push = clientClosesOn(frames(SETTINGS), {
      extra: (quic) => {
        const id = quic.openStream(false)!;
        quic.streamWrite(id, Uint8Array.of(0x01, 0x00));
      },
    });
    assert.equal(push, BigInt(H3.H3_ID_ERROR));
  });

  it('unknown and reserved stream types are ignored (reading aborted with H3_STREAM_CREATION_ERROR)', () => {
    const p = new H3Pair({ rawServer: true, seed: 12 });
    let grease = -1;
    p.onServerQuic = (e, quic) => {
      if (e.type === 'handshake-completed') {
        rawControl(quic, frames(SETTINGS));
        grease = quic.openStream(false)!;
        quic.streamWrite(grease, concat(Uint8Array.of(0x40, 0x5f), new Uint8Array(100))); // type 0x5f = 0x1f * 2 + 0x21
      }
    };
    p.run(() => p.pair.serverEvents.some((e) => e.type === 'stream-stop-sending' && e.streamId === grease));
    const stop = p.pair.serverEvents.find((e) => e.type === 'stream-stop-sending' && e.streamId === grease);
    assert.ok(stop !== undefined && stop.type === 'stream-stop-sending');
    assert.equal(stop.errorCode, BigInt(H3.H3_STREAM_CREATION_ERROR));
    assert.equal(p.client!.isClosed, false);
  });

  it('a PUSH_PROMISE on a response stream: H3_ID_ERROR (the client never sent MAX_PUSH_ID)', () => {
    const p = new H3Pair({ rawServer: true, seed: 13 });
    p.onServerQuic = (e, quic) => {
      if (e.type === 'handshake-completed') rawControl(quic, frames(SETTINGS));
      if (e.type === 'stream-readable' && (e.streamId & 3) === 0) {
        while (quic.streamRead(e.streamId) !== null);
        quic.streamWrite(e.streamId, concat(frames({ type: 'push-promise', pushId: 0, fieldSection: new Uint8Array([0, 0, 0xd1]) })));
      }
    };
    p.connect();
    p.client!.request(getRequest('/'), { endStream: true });
    p.run(() => p.pair.serverEvents.some((e) => e.type === 'closed'));
    const closed = p.pair.serverEvents.find((e) => e.type === 'closed');
    assert.ok(closed?.type === 'closed');
    assert.equal(closed.reason.code, BigInt(H3.H3_ID_ERROR));
  });
});

describe('Http3Connection: QPACK', () => {
  it('a response whose header section waits for the encoder stream is delivered once the inserts arrive', () => {
    const p = new H3Pair({ rawServer: true, seed: 18 });
    const encoder = new QpackEncoder({ maxTableCapacity: 4096 });
    let encoderStream = -1;
    const inserts: { held: Uint8Array | null } = { held: null };
    p.onServerQuic = (e, quic) => {
      if (e.type === 'handshake-completed') {
        rawControl(quic, frames(SETTINGS));
        encoderStream = quic.openStream(false)!;
        quic.streamWrite(encoderStream, encodeStreamType(0x02));
      }
      if (e.type === 'stream-readable' && (e.streamId & 3) === 0) {
        while (quic.streamRead(e.streamId) !== null);
        // The client allows a dynamic table (its SETTINGS): use it, and hold back the inserts.
        encoder.applyPeerSettings({ maxTableCapacity: 4096, blockedStreams: 100 });
        const block = encoder.encodeFieldSection(
          e.streamId,
          fields([':status', '200'], ['x-custom-header', 'a value long enough to be worth indexing'], ['content-length', '3']),
        );
        inserts.held = encoder.takeEncoderStreamData();
        quic.streamWrite(
          e.streamId,
          concat(encodeFrame({ type: 'headers', fieldSection: block }), frames({ type: 'data', payload: Uint8Array.of(1, 2, 3) })),
        );
        quic.streamFinish(e.streamId);
      }
    };
    p.connect();
    const id = p.client!.request(getRequest('/'), { endStream: true })!;
    p.run(() => inserts.held !== null);
    for (let i = 0; i < 20; i++) p.run(() => true);
    const held = inserts.held;
    assert.ok(held !== null && held.length > 10, 'the encoder inserted entries (not just Set Dynamic Table Capacity)');
    assert.equal(find(p.clientEvents, 'headers', id), undefined, 'blocked until the inserts arrive');
    p.pair.server!.streamWrite(encoderStream, held);
    const body: Uint8Array[] = [];
    p.onClient = (e) => {
      if (e.type === 'data') readAll(p.client!, e.streamId, body);
    };
    p.run(() => find(p.clientEvents, 'end', id) !== undefined);
    assert.equal(headerValue(find(p.clientEvents, 'headers', id)!.headers, 'x-custom-header'), 'a value long enough to be worth indexing');
    assert.deepEqual(concat(...body), Uint8Array.of(1, 2, 3));
  });
});

describe('Http3Connection: malformed requests are stream errors', () => {
  /** A raw client sends `bytes` on a request stream; returns the server's reset code as the client sees it. */
  function serverResets(
    build: (streamId: number) => Uint8Array,
    finish = true,
  ): { code: bigint; serverEvents: Http3Event[]; closed: boolean } {
    const p = new H3Pair({ rawClient: true, seed: 14 });
    p.onServer = (e) => {
      if (e.type === 'data') readAll(p.server!, e.streamId, []);
    };
    let id = -1;
    p.onClientQuic = (e, quic) => {
      if (e.type === 'handshake-completed') {
        rawControl(quic, frames(SETTINGS));
        id = quic.openStream(true)!;
        quic.streamWrite(id, build(id));
        if (finish) quic.streamFinish(id);
      }
    };
    p.run(() => p.pair.clientEvents.some((e) => e.type === 'stream-reset' && e.streamId === id));
    const reset = p.pair.clientEvents.find((e) => e.type === 'stream-reset' && e.streamId === id);
    assert.ok(reset?.type === 'stream-reset');
    return { code: reset.errorCode, serverEvents: p.serverEvents, closed: p.server!.isClosed };
  }

  const base = (extra: [string, string][] = [], method = 'GET'): HeaderField[] =>
    fields([':method', method], [':scheme', 'https'], [':authority', 'localhost'], [':path', '/'], ...extra);

  const cases: [string, (id: number) => Uint8Array][] = [
    ['missing :path', (id) => headersFrame(id, fields([':method', 'GET'], [':scheme', 'https'], [':authority', 'x']))],
    ['uppercase field name', (id) => headersFrame(id, base([['X-Upper', '1']]))],
    ['pseudo-header after a regular field', (id) => headersFrame(id, [...base([['a', 'b']]), { name: ':protocol', value: 'x' }])],
    ['unknown pseudo-header', (id) => headersFrame(id, [{ name: ':foo', value: 'x' }, ...base()])],
    ['connection-specific field', (id) => headersFrame(id, base([['connection', 'keep-alive']]))],
    ['a response pseudo-header in a request', (id) => headersFrame(id, [{ name: ':status', value: '200' }, ...base()])],
    ['NUL in a value', (id) => headersFrame(id, base([['x', 'a\u0000b']]))],
    [
      'content-length larger than the DATA',
      (id) => concat(headersFrame(id, base([['content-length', '10']], 'POST')), frames({ type: 'data', payload: new Uint8Array(5) })),
    ],
    [
      'content-length smaller than the DATA',
      (id) => concat(headersFrame(id, base([['content-length', '2']], 'POST')), frames({ type: 'data', payload: new Uint8Array(5) })),
    ],
  ];
  for (const [name, build] of cases) {
    it(`${name}: H3_MESSAGE_ERROR`, () => {
      const r = serverResets(build);
      assert.equal(r.code, BigInt(H3.H3_MESSAGE_ERROR));
      assert.equal(r.closed, false, 'a stream error leaves the connection open');
      const err = r.serverEvents.find((e) => e.type === 'stream-error');
      assert.ok(err?.type === 'stream-error');
      assert.equal(err.error.code, 'H3_MESSAGE_ERROR');
    });
  }

  it('a request stream that ends before its header section: H3_REQUEST_INCOMPLETE', () => {
    assert.equal(
      serverResets(() => frames({ type: 'unknown', frameType: 0x21, payload: new Uint8Array(1) })).code,
      BigInt(H3.H3_REQUEST_INCOMPLETE),
    );
  });

  it('DATA before HEADERS closes the connection with H3_FRAME_UNEXPECTED', () => {
    const p = new H3Pair({ rawClient: true, seed: 15 });
    p.onClientQuic = (e, quic) => {
      if (e.type === 'handshake-completed') {
        rawControl(quic, frames(SETTINGS));
        const id = quic.openStream(true)!;
        quic.streamWrite(id, frames({ type: 'data', payload: new Uint8Array(4) }));
      }
    };
    p.run(() => p.pair.clientEvents.some((e) => e.type === 'closed'));
    const closed = p.pair.clientEvents.find((e) => e.type === 'closed');
    assert.ok(closed?.type === 'closed');
    assert.equal(closed.reason.code, BigInt(H3.H3_FRAME_UNEXPECTED));
  });

  it('a frame cut by FIN closes the connection with H3_FRAME_ERROR', () => {
    const p = new H3Pair({ rawClient: true, seed: 16 });
    p.onServer = (e) => {
      if (e.type === 'data') readAll(p.server!, e.streamId, []);
    };
    p.onClientQuic = (e, quic) => {
      if (e.type === 'handshake-completed') {
        rawControl(quic, frames(SETTINGS));
        const id = quic.openStream(true)!;
        const h = headersFrame(id, base([['content-length', '9']], 'POST'));
        const w = new Writer();
        w.bytes(h).varint(0).varint(9).bytes(new Uint8Array(4)); // DATA declares 9, 4 arrive, then FIN
        quic.streamWrite(id, w.toBytes());
        quic.streamFinish(id);
      }
    };
    p.run(() => p.pair.clientEvents.some((e) => e.type === 'closed'));
    const closed = p.pair.clientEvents.find((e) => e.type === 'closed');
    assert.ok(closed?.type === 'closed');
    assert.equal(closed.reason.code, BigInt(H3.H3_FRAME_ERROR));
  });
});

describe('Http3Connection: API misuse', () => {
  it('invalid headers to send, and commands in the wrong state, throw UsageError', () => {
    const p = new H3Pair({ seed: 17 });
    p.connect();
    const c = p.client!;
    assert.throws(() => c.request(fields([':method', 'GET'])), { code: 'ERR_USAGE' });
    assert.throws(() => c.request(getRequest('/', [['Upper', 'x']])), { code: 'ERR_USAGE' });
    assert.throws(() => c.respond(0, fields([':status', '200'])), { code: 'ERR_USAGE' });
    const id = c.request(getRequest('/'), { endStream: true })!;
    assert.throws(() => c.sendData(id, new Uint8Array(1)), { code: 'ERR_USAGE' });
    assert.throws(() => new Http3Connection(p.pair.server!).request(getRequest('/')), { code: 'ERR_USAGE' });
  });
});
