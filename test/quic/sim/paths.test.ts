/**
 * Paths and migration in the simulator (RFC 9000 sections 8.2 and 9): NAT rebinding of the client's port
 * or address every 5 s of virtual time during a download, and a client's active migration with
 * `migrate()`. Every new path must be validated (PATH_CHALLENGE answered by PATH_RESPONSE) and every
 * response byte is checked against the independent pattern of support.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection } from '../../../src/quic/connection/connection.js';
import type { ConnectionEvent, SocketAddress } from '../../../src/quic/connection/events.js';
import { PullwireError } from '../../../src/combinators/errors.js';
import { CLIENT_ADDRESS, clientErrors, KiB, MiB, PROVIDER_KINDS, Scenario, type ClientApp } from './support.js';

/** A NAT in front of the client: its mapping (the source the server sees) changes every `period` ms. */
function natEvery(period: number, change: 'port' | 'address'): (from: SocketAddress, info: { now: number }) => SocketAddress {
  return (from, info) => {
    const epoch = Math.floor(info.now / period);
    if (epoch === 0) return from;
    return change === 'port' ? { address: from.address, port: 40000 + epoch } : { address: `10.1.0.${epoch}`, port: from.port };
  };
}

function pathEvents(s: Scenario, conn: Connection): ConnectionEvent[] {
  return (s.servers.get(conn)?.events ?? []).filter((e) => e.type.startsWith('path-'));
}

function run(s: Scenario, app: ClientApp, maxTime: number): void {
  s.sim.runUntil(() => app.complete || app.errors.length > 0 || app.closed !== null, { maxTime });
  assert.deepEqual(clientErrors(s), []);
  assert.equal(app.closed, null);
  assert.ok(app.complete);
}

describe('sim: NAT rebinding', () => {
  for (const kind of PROVIDER_KINDS) {
    for (const change of ['port', 'address'] as const) {
      // The node provider moves 10 MB; noble (slower AES-GCM in JS) a smaller transfer over the same rebindings.
      const size = kind === 'node' ? 10 * MiB : 2 * MiB;
      it(`${kind}: rebind-${change === 'port' ? 'port' : 'addr'}, ${size / MiB} MB, the client's ${change} changes every 5 s`, () => {
        const s = new Scenario({
          seed: 11,
          kind,
          // 10 MB over ~16 Mbit/s takes about 5.5 s per 10 MB... slow enough to cross several rebindings.
          link: { latency: 10, bandwidth: kind === 'node' ? 4e6 : 0.8e6, rewriteSource: natEvery(5000, change) },
          reverse: { latency: 10, bandwidth: kind === 'node' ? 4e6 : 0.8e6 },
        });
        const app = s.connect([size]);
        run(s, app, 120_000);
        assert.equal(app.bytesReceived, size);
        const server = s.serverList[0]!;
        const conn = server.conn;
        const rebinds = Math.floor(s.sim.now / 5000);
        assert.ok(rebinds >= 3, `only ${rebinds} rebindings happened`);
        const changed = pathEvents(s, conn).filter((e) => e.type === 'path-changed');
        assert.equal(changed.length, rebinds, 'one path change per rebinding');
        for (const e of changed) assert.equal(e.type === 'path-changed' && e.reason, 'rebinding');
        const validated = pathEvents(s, conn).filter((e) => e.type === 'path-validated');
        assert.equal(validated.length, rebinds, 'every new path validated');
        assert.ok(conn.pathStats.challengesSent >= rebinds);
        assert.ok(conn.pathStats.responsesReceived >= rebinds);
        const client = [...s.clients.keys()][0]!;
        assert.ok(client.pathStats.responsesSent >= rebinds);
        assert.equal(conn.pathStats.failed, 0);
        // The server's replies go to the NAT's current mapping.
        const last = changed.at(-1);
        assert.ok(last !== undefined && last.type === 'path-changed');
        assert.notDeepEqual(last.path.remote, CLIENT_ADDRESS);
      });
    }
  }
});

describe('sim: client active migration', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: migrate() probes the new local address, moves there with a new connection ID, the download completes`, () => {
      const s = new Scenario({ seed: 5, kind, link: { latency: 10, bandwidth: 20e6 } });
      const moved: SocketAddress = { address: '10.0.0.9', port: 51000 };
      s.clientNode.addAddress(moved);
      const size = 1 * MiB;
      const app = s.connect([size]);
      const conn = app.conn;
      s.sim.runUntil(() => conn.isHandshakeConfirmed && app.bytesReceived > 100 * KiB, { maxTime: 10_000 });
      const dcidBefore = (conn as unknown as { peerCids: { current: { sequence: number } } }).peerCids.current.sequence;
      conn.migrate(moved, s.sim.now);
      run(s, app, 60_000);
      assert.equal(app.bytesReceived, size);
      const changed = app.events.filter((e) => e.type === 'path-changed');
      assert.equal(changed.length, 1);
      const c = changed[0]!;
      assert.ok(c.type === 'path-changed' && c.reason === 'migration');
      assert.deepEqual(conn.path.local, moved);
      const dcidAfter = (conn as unknown as { peerCids: { current: { sequence: number } } }).peerCids.current.sequence;
      assert.notEqual(dcidAfter, dcidBefore, 'a new connection ID on the new path (RFC 9000 section 9.5)');
      // The server saw the probe first: a migration, not a rebinding.
      const server = s.serverList[0]!.conn;
      const serverChanged = pathEvents(s, server).filter((e) => e.type === 'path-changed');
      assert.equal(serverChanged.length, 1);
      assert.ok(serverChanged[0]!.type === 'path-changed' && serverChanged[0]!.reason === 'migration');
      assert.ok(conn.pathStats.challengesSent >= 1 && server.pathStats.responsesSent >= 1);
      // Traffic reached the server from the new address.
      assert.ok(s.serverNode.trafficWith(moved).receivedBytes > 0);
    });
  }

  it('migrate() throws a UsageError when the server sent disable_active_migration', () => {
    const s = new Scenario({ seed: 6, kind: 'node', link: { latency: 5 }, server: { disableActiveMigration: true } });
    const app = s.connect([]);
    s.sim.runUntil(() => app.conn.isHandshakeConfirmed, { maxTime: 5_000 });
    assert.equal(app.conn.peerParameters?.disableActiveMigration, true);
    assert.throws(
      () => app.conn.migrate({ address: '10.0.0.9', port: 1 }, s.sim.now),
      (e: unknown) => e instanceof PullwireError && e.code === 'ERR_USAGE',
    );
  });
});

describe('sim: NAT rebinding of a client that only acknowledges (ngtcp2 gtlsclient --nat-rebinding)', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: one small ACK-only datagram from the new port is enough: the server challenges it within 3x and keeps sending`, () => {
      const REBIND_AT = 400;
      const moved: SocketAddress = { address: CLIENT_ADDRESS.address, port: 40001 };
      // What reaches the server after the rebinding: the first ACK-only sized datagram only, then nothing
      // until the server has sent something to the new port (the client has nothing else to say: it only
      // acknowledges, and it ignores what arrives on the old path).
      let phase: 'before' | 'first' | 'silent' | 'open' = 'before';
      let passed = 0;
      let firstToNew = 0;
      let dcidBefore = -1;
      const s = new Scenario({
        seed: 21,
        kind,
        link: {
          latency: 5,
          bandwidth: 8e6,
          rewriteSource: (from, info) => (info.now >= REBIND_AT ? moved : from),
          filter: (d, info) => {
            if (info.now < REBIND_AT) return 'deliver';
            if (phase === 'before') phase = 'first';
            if (phase === 'first') {
              if (d.length > 60) return 'drop';
              phase = 'silent';
              passed = d.length;
              return 'deliver';
            }
            return phase === 'open' ? 'deliver' : 'drop';
          },
        },
        reverse: {
          latency: 5,
          bandwidth: 8e6,
          filter: (d, info) => {
            if (info.now < REBIND_AT) return 'deliver';
            // The old mapping is gone (gtlsclient ignores what arrives on its old path).
            if (info.to.port !== moved.port) return 'drop';
            if (phase === 'silent') {
              phase = 'open';
              firstToNew = d.length;
            }
            return 'deliver';
          },
        },
      });
      const size = kind === 'node' ? 4 * MiB : 1 * MiB;
      const app = s.connect([size]);
      const serverDcid = (c: Connection): number =>
        (c as unknown as { peerCids: { current: { sequence: number } } }).peerCids.current.sequence;
      s.sim.runUntil(() => s.sim.now >= REBIND_AT - 10 || app.complete, { maxTime: 10_000 });
      assert.ok(!app.complete, 'the rebinding happens mid-transfer');
      dcidBefore = serverDcid(s.serverList[0]!.conn);
      run(s, app, 60_000);
      assert.equal(app.bytesReceived, size);
      // Section 9.5: the client kept its Destination Connection ID, so the server may keep its own.
      assert.equal(serverDcid(s.serverList[0]!.conn), dcidBefore);
      assert.ok(passed > 0 && passed <= 60, `the datagram that reached the server from the new port had ${passed} bytes`);
      const conn = s.serverList[0]!.conn;
      const changed = pathEvents(s, conn).filter((e) => e.type === 'path-changed');
      assert.equal(changed.length, 1);
      assert.ok(changed[0]!.type === 'path-changed' && changed[0]!.reason === 'rebinding');
      assert.deepEqual(conn.path.remote, moved);
      assert.ok(conn.pathStats.challengesSent >= 1);
      assert.equal(conn.pathStats.failed, 0);
      // RFC 9000 sections 8.1 and 8.2.1: the first datagram to the new port (the challenge) fits in 3x what came from it.
      assert.ok(firstToNew > 0 && firstToNew <= 3 * passed, `${firstToNew} bytes sent for ${passed} received`);
    });
  }
});

describe('sim: connectionmigration (server preferred_address, RFC 9000 section 9.6)', () => {
  const PREFERRED: SocketAddress = { address: '10.0.0.3', port: 4434 };
  const peerDcid = (c: Connection): { sequence: number; cid: Uint8Array } =>
    (c as unknown as { peerCids: { current: { sequence: number; cid: Uint8Array } } }).peerCids.current;
  const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the client validates the preferred address after confirmation and ends there with connection ID 1; transfer byte-exact`, () => {
      const s = new Scenario({ seed: 31, kind, link: { latency: 10, bandwidth: 20e6 }, server: { preferredAddress: { ipv4: PREFERRED } } });
      s.serverNode.addAddress(PREFERRED);
      const size = kind === 'node' ? 2 * MiB : 512 * KiB;
      const app = s.connect([size]);
      const conn = app.conn;
      run(s, app, 60_000);
      assert.equal(app.bytesReceived, size);
      // The parameter as the client decoded it: our address in network order, and the port.
      const pa = conn.peerParameters?.preferredAddress ?? null;
      assert.ok(pa !== null);
      assert.deepEqual([...pa.ipv4Address], [10, 0, 0, 3]);
      assert.equal(pa.ipv4Port, 4434);
      assert.equal(pa.ipv6Port, 0);
      assert.deepEqual(conn.path.remote, PREFERRED);
      const dcid = peerDcid(conn);
      assert.equal(dcid.sequence, 1, 'section 5.1.1: the preferred_address connection ID has sequence 1');
      assert.equal(toHex(dcid.cid), toHex(pa.connectionId));
      const changed = app.events.filter((e) => e.type === 'path-changed');
      assert.equal(changed.length, 1);
      assert.ok(changed[0]!.type === 'path-changed' && changed[0]!.reason === 'preferred-address');
      assert.ok(conn.pathStats.challengesSent >= 1 && conn.pathStats.validated >= 1);
      // The server moved too, after validating the path (section 9.6.1), and data reached the client from there.
      const server = s.serverList[0]!.conn;
      assert.deepEqual(server.path.local, PREFERRED);
      const serverChanged = pathEvents(s, server).filter((e) => e.type === 'path-changed');
      assert.ok(
        serverChanged.length === 1 && serverChanged[0]!.type === 'path-changed' && serverChanged[0]!.reason === 'preferred-address',
      );
      assert.ok(s.clientNode.trafficWith(PREFERRED).receivedBytes > 0);
      assert.ok(s.clientNode.trafficWith(PREFERRED).sentBytes > 0);
    });
  }

  it('followPreferredAddress: false stays on the original address', () => {
    const s = new Scenario({
      seed: 32,
      kind: 'node',
      link: { latency: 10, bandwidth: 20e6 },
      server: { preferredAddress: { ipv4: PREFERRED } },
    });
    s.serverNode.addAddress(PREFERRED);
    const app = s.connect([256 * KiB], Infinity, { followPreferredAddress: false });
    run(s, app, 60_000);
    assert.equal(app.bytesReceived, 256 * KiB);
    assert.notEqual(app.conn.peerParameters?.preferredAddress ?? null, null);
    assert.notDeepEqual(app.conn.path.remote, PREFERRED);
    assert.equal(app.events.filter((e) => e.type === 'path-changed').length, 0);
    assert.equal(s.clientNode.trafficWith(PREFERRED).sentBytes, 0);
  });
});
