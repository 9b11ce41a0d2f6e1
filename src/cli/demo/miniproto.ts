/**
 * Part 2, mini-protocols over a real loopback TCP connection: a node:net
 * server and client, each side a miniproto Session driven by attachDuplex.
 *
 * The protocol, two phases on one connection:
 *   1. line handshake: the client sends `HELLO pullwire-demo/1 records=N`,
 *      the server answers `WELCOME pullwire-demo/1` (or rejects);
 *   2. records: u16be length-prefixed records, client to server; the server
 *      echoes each one and checksums it (FNV-1a). After the N-th record the
 *      server switches to a last phase that writes one report line,
 *      `OK records=N bytes=B fnv=H`, and is done; the client, after the N-th
 *      echo, switches to a phase that reads that line, and is done.
 *
 * The client keeps at most WINDOW bytes of records in flight and checks every
 * echo, byte for byte and in order, against the record it sent (a slice of a
 * seeded random pool, not anything the code under test produced); the report
 * line must carry the client's own count, byte total and checksum.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import {
  Session,
  encodeLengthRecord,
  encodeLine,
  handshake,
  handshakeRejected,
  lengthRecords,
  phase,
  textLine,
  type Phase,
  type RecordEvent,
} from '../../miniproto/index.js';
import { attachDuplex } from '../../miniproto/node.js';
import {
  FNV_SEED,
  Teardown,
  between,
  equalBytes,
  errorText,
  fail,
  fnv1a,
  int,
  mb,
  mbps,
  perSecond,
  randomBytes,
  rng,
  say,
  secs,
  since,
  now,
  outcome,
  type DemoOptions,
  type PartOutcome,
} from './common.js';

const GREETING = 'HELLO pullwire-demo/1';
const WELCOME = 'WELCOME pullwire-demo/1';
const MIN_RECORD = 16;
const MAX_RECORD = 1024;
/** Record bytes the client lets be sent but not yet echoed. */
const WINDOW = 1 << 20;
const POOL_SIZE = 1 << 20;

/** The records to send: slices of one random pool, with the client's checksum of all of them. */
interface Plan {
  readonly pool: Uint8Array;
  readonly offset: Uint32Array;
  readonly length: Uint16Array;
  readonly bytes: number;
  readonly fnv: number;
}

function plan(n: number, seed: number): Plan {
  const r = rng(seed ^ 0x6d70);
  const pool = randomBytes(POOL_SIZE, seed ^ 0x9e3779b9);
  const offset = new Uint32Array(n);
  const length = new Uint16Array(n);
  let bytes = 0;
  let fnv = FNV_SEED;
  for (let i = 0; i < n; i++) {
    const len = between(r, MIN_RECORD, MAX_RECORD);
    const off = between(r, 0, POOL_SIZE - len);
    offset[i] = off;
    length[i] = len;
    bytes += len;
    fnv = fnv1a(fnv, pool.subarray(off, off + len));
  }
  return { pool, offset, length, bytes, fnv };
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
const reportLine = (records: number, bytes: number, fnv: number): string => `OK records=${records} bytes=${bytes} fnv=${hex(fnv)}`;

// ---------------------------------------------------------------- the server side

type ServerEvent = { readonly type: 'hello'; readonly records: number } | RecordEvent;

function serverSession(): Session<ServerEvent> {
  // The records phase echoes through the session, which needs its first phase to exist: a forward reference.
  let session: Session<ServerEvent> | null = null;
  const records = (expected: number): Phase<ServerEvent> => {
    let count = 0;
    let bytes = 0;
    let fnv = FNV_SEED;
    const report = phase<ServerEvent>('report', function* (io) {
      yield* io.write(encodeLine(reportLine(count, bytes, fnv)));
      return null;
    });
    return lengthRecords<ServerEvent>({
      name: 'records',
      prefix: 'u16be',
      max: MAX_RECORD,
      onRecord: (record) => {
        count++;
        bytes += record.length;
        fnv = fnv1a(fnv, record);
        session!.send(encodeLengthRecord('u16be', record));
        return count === expected ? report : undefined;
      },
    });
  };
  const hello = handshake<string, ServerEvent>({
    name: 'hello',
    expect: textLine({ max: 256 }),
    then: (text) => {
      const m = /^HELLO pullwire-demo\/1 records=(\d{1,9})$/.exec(text);
      if (m === null) throw handshakeRejected(`unexpected greeting ${JSON.stringify(text)}`);
      const n = Number(m[1]);
      return { reply: encodeLine(WELCOME), event: { type: 'hello', records: n }, next: n === 0 ? null : records(n) };
    },
  });
  session = new Session<ServerEvent>(hello, { maxBuffered: 4 << 20 });
  return session;
}

// ---------------------------------------------------------------- the client side

type ClientEvent = { readonly type: 'welcome' } | { readonly type: 'report'; readonly text: string } | RecordEvent;

interface ClientState {
  sent: number;
  echoed: number;
  inFlight: number;
  mismatches: number;
  started: bigint;
  finishedAt: number;
  report: string | null;
}

function clientSession(p: Plan, n: number, st: ClientState): { session: Session<ClientEvent>; topUp: () => void } {
  let session: Session<ClientEvent> | null = null;
  const topUp = (): void => {
    while (st.sent < n && st.inFlight < WINDOW) {
      const off = p.offset[st.sent]!;
      const len = p.length[st.sent]!;
      session!.send(encodeLengthRecord('u16be', p.pool.subarray(off, off + len)));
      st.inFlight += len;
      st.sent++;
    }
  };
  const summary = phase<ClientEvent>('summary', function* (io) {
    const text = yield* io.read(textLine({ max: 256 }));
    yield* io.emit({ type: 'report', text });
    return null;
  });
  const echoes = lengthRecords<ClientEvent>({
    name: 'echoes',
    prefix: 'u16be',
    max: MAX_RECORD,
    onRecord: (record) => {
      const i = st.echoed++;
      const off = p.offset[i]!;
      const expected = p.pool.subarray(off, off + p.length[i]!);
      if (!equalBytes(record, expected) && st.mismatches++ < 5) fail(`echo of record ${i} differs from what was sent`);
      st.inFlight -= expected.length;
      if (st.echoed === n) {
        st.finishedAt = since(st.started);
        return summary;
      }
      topUp();
      return undefined;
    },
  });
  const hello = handshake<string, ClientEvent>({
    name: 'hello',
    send: encodeLine(`${GREETING} records=${n}`),
    expect: textLine({ max: 256 }),
    then: (text) => {
      if (text !== WELCOME) throw handshakeRejected(`unexpected answer ${JSON.stringify(text)}`);
      return { event: { type: 'welcome' }, next: echoes };
    },
  });
  session = new Session<ClientEvent>(hello, { maxBuffered: 4 << 20 });
  return { session, topUp };
}

// ---------------------------------------------------------------- the part

export async function runMiniproto(opts: DemoOptions, teardown: Teardown): Promise<PartOutcome> {
  const n = opts.quick ? 5_000 : 200_000;
  const p = plan(n, opts.seed);
  const server = createServer();
  teardown.add(() => server.close());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  let serverFinished: Promise<string> | null = null;
  server.once('connection', (socket: Socket) => {
    teardown.add(() => socket.destroy());
    server.close(); // one connection only: stop listening, 'close' fires once it has closed
    const s = serverSession();
    serverFinished = attachDuplex(s, socket).finished;
  });

  const st: ClientState = { sent: 0, echoed: 0, inFlight: 0, mismatches: 0, started: now(), finishedAt: 0, report: null };
  const t0 = now();
  let handshakeSeconds = 0;
  const client = connect({ port, host: '127.0.0.1' });
  teardown.add(() => client.destroy());
  const serverClosed = once(server, 'close');
  const clientClosed = once(client, 'close');
  // Awaited below on success; a socket error is reported through `finished` first.
  serverClosed.catch(() => undefined);
  clientClosed.catch(() => undefined);
  const { session, topUp } = clientSession(p, n, st);
  const clientFinished = attachDuplex(session, client, {
    onEvent: (e) => {
      if (e.type === 'welcome') {
        handshakeSeconds = since(t0);
        st.started = now();
        topUp();
      } else if (e.type === 'report') st.report = e.text;
    },
  }).finished;

  let ok = true;
  try {
    const clientOutcome = await clientFinished;
    const serverOutcome = await (serverFinished ?? Promise.reject(new Error('the server never saw the connection')));
    await Promise.all([clientClosed, serverClosed]);
    if (clientOutcome !== 'done' || serverOutcome !== 'done') {
      fail(`sessions ended with client ${clientOutcome}, server ${serverOutcome} (expected done, done)`);
      ok = false;
    }
  } catch (e) {
    fail(`session error ${errorText(e)}`);
    return 'failed';
  }
  say(`handshake: "${GREETING} records=${n}" -> "${WELCOME}" in ${(handshakeSeconds * 1e3).toFixed(1)} ms (connect included)`);
  const t = st.finishedAt;
  const echoOk = st.echoed === n && st.mismatches === 0;
  const line =
    `${int(n)} records of ${MIN_RECORD}..${int(MAX_RECORD)} B (${mb(p.bytes)}) sent and echoed back` +
    `${echoOk ? ', every byte matches' : `: FAIL (${int(st.echoed)} echoed, ${int(st.mismatches)} differ)`}` +
    ` in ${secs(t)}: ${perSecond(n, t, 'records')}, ${mbps(p.bytes, t)} each way`;
  if (echoOk) say(line);
  else fail(line);
  const expectedReport = reportLine(n, p.bytes, p.fnv);
  const reportOk = st.report === expectedReport;
  if (reportOk) say(`server report "${st.report}" = the client's own count, bytes and checksum; both sessions done, sockets closed`);
  else fail(`server report ${JSON.stringify(st.report)}, expected "${expectedReport}"`);
  return outcome(ok && echoOk && reportOk);
}
