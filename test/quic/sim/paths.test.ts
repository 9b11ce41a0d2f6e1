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
