/**
 * Debug output of the Node adapter: the NSS key log (SSLKEYLOGFILE format)
 * and qlog files (JSON-SEQ, RFC 7464 records, qlog 0.3).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect } from '../../../src/quic/node.js';
import { ALPN, CERT, echoStreams, first, readAll, testServer, writeAll, bytes } from './support.js';

/** Parses an RFC 7464 JSON text sequence strictly: every record is RS + JSON + LF. */
function parseJsonSeq(text: string): unknown[] {
  assert.equal(text[0], '\x1e', 'a JSON-SEQ file starts with the record separator');
  return text
    .split('\x1e')
    .slice(1)
    .map((record) => {
      assert.ok(record.endsWith('\n'), 'each record ends with a line feed');
      return JSON.parse(record) as unknown;
    });
}

describe('QUIC over node:dgram: debug output', () => {
  it('writes the NSS key log: the same TLS 1.3 secrets on both sides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-keylog-'));
    const serverLines: string[] = [];
    const server = await testServer(echoStreams, { keylog: (line) => serverLines.push(line) });
    try {
      const file = join(dir, 'keys.log');
      const conn = await connect({
        host: '127.0.0.1',
        port: server.address().port,
        serverName: 'localhost',
        alpn: ALPN,
        ca: CERT,
        keylog: file,
      });
      const s = await conn.openStream();
      await Promise.all([writeAll(s, bytes(100)), readAll(s.readable)]);
      await conn.close();
      const clientLines = readFileSync(file, 'utf8').trimEnd().split('\n');
      // NSS key log format: label, client random (32 bytes hex), secret (hex; 32 bytes for SHA-256 suites).
      const labels = [
        'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
        'SERVER_HANDSHAKE_TRAFFIC_SECRET',
        'CLIENT_TRAFFIC_SECRET_0',
        'SERVER_TRAFFIC_SECRET_0',
      ];
      for (const line of clientLines) assert.match(line, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64}([0-9a-f]{32})?$/);
      assert.deepEqual([...new Set(clientLines.map((l) => l.split(' ')[0]))].sort(), [...labels].sort());
      assert.equal(new Set(clientLines.map((l) => l.split(' ')[1])).size, 1, 'one client random');
      // Both ends derive the same secrets from the handshake: their logs agree line for line.
      assert.deepEqual([...serverLines].sort(), [...clientLines].sort());
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes one qlog JSON-SEQ file per connection, with the header and the engine events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-qlog-'));
    const server = await testServer(echoStreams, { qlogDir: dir });
    try {
      const accepted = first(server);
      const conn = await connect({
        host: '127.0.0.1',
        port: server.address().port,
        serverName: 'localhost',
        alpn: ALPN,
        ca: CERT,
        qlogDir: dir,
      });
      const s = await conn.openStream();
      await Promise.all([writeAll(s, bytes(30_000)), readAll(s.readable)]);
      await accepted;
      await conn.close();
      await server.close();
      const files = readdirSync(dir).sort();
      assert.equal(files.length, 2);
      const traces = files.map((f) => ({ name: f, records: parseJsonSeq(readFileSync(join(dir, f), 'utf8')) }));
      const odcids = new Set<string>();
      for (const { name, records } of traces) {
        assert.ok(name.endsWith('.sqlog'));
        const header = records[0] as {
          qlog_version: string;
          qlog_format: string;
          trace: { vantage_point: { type: string }; common_fields: { ODCID: string; time_format: string; reference_time: number } };
        };
        assert.equal(header.qlog_version, '0.3');
        assert.equal(header.qlog_format, 'JSON-SEQ');
        assert.ok(['client', 'server'].includes(header.trace.vantage_point.type));
        assert.equal(header.trace.common_fields.time_format, 'relative');
        assert.equal(typeof header.trace.common_fields.reference_time, 'number');
        odcids.add(header.trace.common_fields.ODCID);
        const events = records.slice(1) as { time: number; name: string; data: Record<string, unknown> }[];
        const names = new Set(events.map((e) => e.name));
        for (const n of ['transport:packet_sent', 'transport:packet_received']) assert.ok(names.has(n), `${name} has ${n}`);
        for (const e of events) {
          assert.match(e.name, /^[a-z_]+:[a-z_]+$/);
          assert.equal(typeof e.data, 'object');
        }
        // Times come from one monotonic clock.
        for (let i = 1; i < events.length; i++) assert.ok(events[i]!.time >= events[i - 1]!.time);
      }
      assert.deepEqual(
        traces.map((t) => (t.records[0] as { trace: { vantage_point: { type: string } } }).trace.vantage_point.type).sort(),
        ['client', 'server'],
      );
      // Without Retry the server's connection is keyed by the client's first DCID too: one group.
      assert.equal(odcids.size, 1);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
