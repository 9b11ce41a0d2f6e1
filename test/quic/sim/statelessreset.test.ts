/**
 * Stateless reset after a server restart (RFC 9000 section 10.3), both crypto providers: the server
 * endpoint loses every connection (a crash) and a fresh endpoint with the same reset key takes its
 * address. The client's next packet reaches the fresh endpoint, which knows nothing of the connection
 * and answers with a stateless reset; the client recognises the token the old server gave it (its
 * transport parameters or NEW_CONNECTION_ID, derived from the shared key, section 10.3.2) and ends the
 * connection at once, well before its idle timeout. With another key the reset is not recognised and
 * only the idle timeout ends the connection (the control case).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Endpoint } from '../../../src/quic/endpoint/endpoint.js';
import type { Path } from '../../../src/quic/connection/events.js';
import { Sim, type SimNode, type SimPollResult } from '../support/sim.js';
import {
  ClientApp,
  CLIENT_ADDRESS,
  clientSettings,
  EndpointNode,
  makeProvider,
  PROVIDER_KINDS,
  SERVER_ADDRESS,
  serverSettings,
  ServerApp,
  simpleChain,
  type EndpointEvent,
  type ProviderKind,
} from './support.js';

const IDLE_TIMEOUT = 30_000;
const LATENCY = 10;

/** A node that can crash: afterwards it receives nothing and is done (its state is gone, nothing more is sent). */
class Crashable<E> implements SimNode<E> {
  crashed = false;
  constructor(private readonly inner: SimNode<E>) {}
  receive(datagram: Uint8Array, path: Path, now: number): void {
    if (!this.crashed) this.inner.receive(datagram, path, now);
  }
  poll(now: number): SimPollResult<E> {
    return this.crashed ? { type: 'done' } : this.inner.poll(now);
  }
}

function serverEndpoint(kind: ProviderKind, seed: number, label: string, resetKey: Uint8Array): Endpoint {
  return new Endpoint({
    provider: makeProvider(kind, seed, label),
    local: SERVER_ADDRESS,
    resetKey,
    server: serverSettings(makeProvider(kind, seed, 'signer'), simpleChain()),
  });
}

/**
 * A client downloads once, the server crashes and restarts with `newKey` (null: the same key), and the
 * client sends a new request. Returns the client app, the restart time and the fresh endpoint.
 */
function restart(kind: ProviderKind, seed: number, newKey: Uint8Array | null): { app: ClientApp; restartAt: number; fresh: Endpoint } {
  const key = new Uint8Array(32).fill(0x42);
  const sim = new Sim({ seed });
  const clientEndpoint = new Endpoint({ provider: makeProvider(kind, seed, 'client'), local: CLIENT_ADDRESS });
  const oldServer = new Crashable(new EndpointNode(serverEndpoint(kind, seed, 'server', key)));
  const apps = new Map<unknown, ServerApp>();
  const onServerEvent = (e: EndpointEvent, now: number): void => {
    if (e.type === 'incoming') apps.set(e.connection, new ServerApp(e.connection));
    else if (e.type === 'connection-event') apps.get(e.connection)?.onEvent(e.event, now);
  };
  let app: ClientApp | null = null;
  const client = sim.addNode('client', new EndpointNode(clientEndpoint), {
    addresses: CLIENT_ADDRESS,
    keepEvents: false,
    onEvent: (e, now) => {
      if (e.type === 'connection-event') app?.onEvent(e.event, now);
    },
  });
  const server = sim.addNode('server', oldServer, { addresses: SERVER_ADDRESS, keepEvents: false, onEvent: onServerEvent });
  sim.connect(client, server, { latency: LATENCY });
  const conn = clientEndpoint.connect({ ...clientSettings(simpleChain()), idleTimeout: IDLE_TIMEOUT }, SERVER_ADDRESS, sim.now);
  app = new ClientApp(conn, [5000]);
  const a = app;
  // One download, then a pause; the next request goes after the restart.
  sim.runUntil(() => a.downloads[0]!.done || a.closed !== null, { maxTime: 5_000 });
  assert.ok(a.downloads[0]!.done);
  sim.runFor(500);

  // The crash: the old endpoint's state is gone; a fresh one takes the address.
  oldServer.crashed = true;
  server.removeAddress(SERVER_ADDRESS);
  const fresh = serverEndpoint(kind, seed, 'server-restarted', newKey ?? key);
  const restarted = sim.addNode('server-restarted', new EndpointNode(fresh), { addresses: SERVER_ADDRESS, keepEvents: false });
  sim.connect(client, restarted, { latency: LATENCY });
  const restartAt = sim.now;
  const id = conn.openStream(true);
  assert.notEqual(id, null);
  conn.streamWrite(id!, new TextEncoder().encode('GET 5000'));
  conn.streamFinish(id!);
  sim.runUntil(() => a.closed !== null, { maxTime: 2 * IDLE_TIMEOUT });
  return { app: a, restartAt, fresh };
}

function reason(app: ClientApp): { initiator: string } {
  const e = app.closed;
  assert.ok(e !== null && e.type === 'closed');
  return e.reason;
}

describe('sim: stateless reset after a server restart', () => {
  for (const kind of PROVIDER_KINDS) {
    it(`${kind}: the restarted server (same reset key) resets the connection; the client ends it within one round trip`, () => {
      const { app, restartAt, fresh } = restart(kind, 90, null);
      assert.equal(reason(app).initiator, 'stateless-reset');
      assert.ok(fresh.stats.statelessResetsSent >= 1);
      assert.equal(fresh.stats.connectionsAccepted, 0);
      // The request goes out at the restart, the reset comes back one round trip later: the connection ends
      // then, not after the 30 s idle timeout.
      assert.ok(app.closedAt! - restartAt <= 2 * LATENCY + 1, `closed ${app.closedAt! - restartAt} ms after the restart`);
      assert.equal(app.conn.state, 'closed');
    });
  }

  it('control: a restart with another reset key is not recognised, only the idle timeout ends the connection', () => {
    const { app, restartAt, fresh } = restart('node', 91, new Uint8Array(32).fill(0x43));
    assert.ok(fresh.stats.statelessResetsSent >= 1, 'the fresh endpoint did answer with resets');
    assert.equal(reason(app).initiator, 'idle-timeout');
    assert.ok(app.closedAt! - restartAt >= IDLE_TIMEOUT - 1_000);
  });
});
