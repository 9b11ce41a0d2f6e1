/**
 * Endpoints wired to each other by a lossless zero-latency wire in virtual time, keyed by address.
 */
import { Endpoint, type EndpointPollResult } from '../../../src/quic/endpoint/endpoint.js';
import type { Connection } from '../../../src/quic/connection/connection.js';
import type { ConnectionEvent, SocketAddress } from '../../../src/quic/connection/events.js';

export interface Logged {
  readonly connection: Connection;
  readonly event: ConnectionEvent;
}

export class Wire {
  now = 0;
  private readonly nodes = new Map<string, { endpoint: Endpoint; address: SocketAddress }>();
  readonly events = new Map<Endpoint, Logged[]>();
  readonly incoming = new Map<Endpoint, Connection[]>();
  readonly sent: { from: string; to: string; datagram: Uint8Array }[] = [];
  filter: (from: string, to: string, datagram: Uint8Array) => boolean = () => true;
  /** Called for each event (tests issue commands here). */
  onEvent: (endpoint: Endpoint, e: Logged) => void = () => {};

  add(endpoint: Endpoint, address: SocketAddress): Endpoint {
    this.nodes.set(key(address), { endpoint, address });
    this.events.set(endpoint, []);
    this.incoming.set(endpoint, []);
    return endpoint;
  }

  replace(address: SocketAddress, endpoint: Endpoint): void {
    this.add(endpoint, address);
  }

  /** Polls every endpoint until all wait; returns the earliest deadline. */
  flush(maxRounds = 100_000): number | null {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const { endpoint, address } of [...this.nodes.values()]) {
        for (;;) {
          const r: EndpointPollResult = endpoint.poll(this.now);
          if (r.type === 'need-read') break;
          moved = true;
          if (r.type === 'need-write') this.deliver(address, r.path.remote, r.datagram.slice());
          else if (r.type === 'event') {
            const logged = { connection: r.connection, event: r.event };
            this.events.get(endpoint)!.push(logged);
            this.onEvent(endpoint, logged);
          } else if (r.type === 'incoming') this.incoming.get(endpoint)!.push(r.connection);
        }
      }
      if (!moved) return this.deadline();
    }
    throw new Error('Wire.flush: no quiescence');
  }

  deadline(): number | null {
    let d: number | null = null;
    for (const { endpoint } of this.nodes.values()) {
      const r = endpoint.poll(this.now);
      if (r.type === 'need-read' && r.deadline !== null && (d === null || r.deadline < d)) d = r.deadline;
    }
    return d;
  }

  run(until: () => boolean, maxSteps = 10_000): void {
    for (let i = 0; i < maxSteps; i++) {
      const d = this.flush();
      if (until()) return;
      if (d === null) throw new Error('Wire.run: nothing left to do and the condition does not hold');
      this.now = Math.max(this.now, d);
    }
    throw new Error('Wire.run: step limit');
  }

  deliver(from: SocketAddress, to: SocketAddress, datagram: Uint8Array): void {
    this.sent.push({ from: key(from), to: key(to), datagram: datagram.slice() });
    if (!this.filter(key(from), key(to), datagram)) return;
    const node = this.nodes.get(key(to));
    node?.endpoint.receive(datagram, { local: to, remote: from }, this.now);
  }
}

function key(a: SocketAddress): string {
  return `${a.address}:${a.port}`;
}

export function has(list: readonly Logged[] | undefined, conn: Connection | null, type: ConnectionEvent['type']): boolean {
  return (list ?? []).some((l) => (conn === null || l.connection === conn) && l.event.type === type);
}
