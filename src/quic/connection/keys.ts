/**
 * The packet protection keys of one connection, per encryption level and
 * direction (RFC 9001 sections 4.9, 5 and 6): installed as the handshake
 * produces secrets, discarded at the moments the RFC names, and for 1-RTT
 * the two key phases of a key update.
 *
 * The connection asks this module for the {@link OpenKeys} / {@link ProtectKeys}
 * objects that packet-io takes; they are rebuilt only when a key changes, so
 * the per-packet path allocates nothing here.
 *
 * 1-RTT key phases (RFC 9001 section 6): `current` keys have Key Phase bit
 * `phase`. The other bit opens with the `next` generation (the peer started
 * an update: switch, section 6.2), or, for a while after we switched, with the
 * `previous` read keys (reordered packets of the old phase, section 6.5).
 */
import { UsageError } from '../../combinators/errors.js';
import type { CipherSuite, CryptoProvider } from '../crypto/provider.js';
import type { OpenKeys, ProtectKeys } from '../packet-io.js';
import { createPacketKeys, initialPacketKeys, nextPacketKeys, type PacketKeys } from '../packet-protection.js';
import type { Role } from '../transport-params.js';

/** Read and write keys of one level. */
interface KeyPair {
  read: PacketKeys | null;
  write: PacketKeys | null;
}

/** The levels whose keys come from the TLS handshake. */
export type SecretLevel = 'early' | 'handshake' | 'application';

export class ConnectionKeys {
  private readonly provider: CryptoProvider;
  private readonly role: Role;
  private version: number;
  private initial: KeyPair | null = null;
  private handshake: KeyPair = { read: null, write: null };
  /** 0-RTT: the client writes, the server reads. */
  private early: PacketKeys | null = null;
  private oneRtt: KeyPair = { read: null, write: null };
  /** Key Phase bit of the current 1-RTT keys. */
  private phaseBit: 0 | 1 = 0;
  /** Read keys of the next key phase (derived ahead, RFC 9001 section 6.3). */
  private nextRead: PacketKeys | null = null;
  /** Read keys of the phase before the last update, kept until {@link dropPreviousReadKeys}. */
  private previousRead: PacketKeys | null = null;
  private openCache: OpenKeys | null = null;
  private protectCache: ProtectKeys | null = null;

  constructor(provider: CryptoProvider, role: Role, version: number) {
    this.provider = provider;
    this.role = role;
    this.version = version;
  }

  /** Initial keys from the client's Destination Connection ID (RFC 9001 section 5.2); again after a Retry. */
  installInitial(dcid: Uint8Array, version: number = this.version): void {
    this.version = version;
    const k = initialPacketKeys(this.provider, version, dcid);
    this.initial = this.role === 'client' ? { read: k.server, write: k.client } : { read: k.client, write: k.server };
    this.changed();
  }

  /** Keys from a TLS traffic secret. */
  install(level: SecretLevel, direction: 'read' | 'write', suite: CipherSuite, secret: Uint8Array): void {
    const keys = createPacketKeys(this.provider, this.version, suite, secret);
    if (level === 'early') this.early = keys;
    else if (level === 'handshake') this.handshake[direction] = keys;
    else {
      this.oneRtt[direction] = keys;
      if (direction === 'read') this.nextRead = nextPacketKeys(this.provider, keys);
    }
    this.changed();
  }

  has(level: 'initial' | 'handshake' | 'early' | 'application', direction: 'read' | 'write'): boolean {
    switch (level) {
      case 'initial':
        return this.initial?.[direction] != null;
      case 'handshake':
        return this.handshake[direction] !== null;
      case 'early':
        return this.early !== null && (direction === 'write') === (this.role === 'client');
      case 'application':
        return this.oneRtt[direction] !== null;
      default: {
        const never: never = level;
        throw new UsageError(`unknown level ${String(never)}`);
      }
    }
  }

  /**
   * Whether packets of `space` can be sent: with its write keys, or, for the application space of a
   * client before the 1-RTT keys, with 0-RTT keys (RFC 9001 section 4.6.1: 0-RTT and 1-RTT packets share
   * the application data packet number space, RFC 9000 section 12.3).
   */
  writable(space: 'initial' | 'handshake' | 'application'): boolean {
    if (space === 'initial') return this.initial?.write != null;
    if (space === 'handshake') return this.handshake.write !== null;
    return this.oneRtt.write !== null || (this.early !== null && this.role === 'client');
  }

  /** True while application packets go out as 0-RTT (client, 0-RTT keys, no 1-RTT write keys yet). */
  get sendsZeroRtt(): boolean {
    return this.oneRtt.write === null && this.early !== null && this.role === 'client';
  }

  /** RFC 9001 section 4.9.1 (Initial), 4.9.2 (Handshake) and 4.9.3 (0-RTT): the keys are gone for good. */
  discard(level: 'initial' | 'handshake' | 'early'): void {
    if (level === 'initial') this.initial = null;
    else if (level === 'handshake') this.handshake = { read: null, write: null };
    else this.early = null;
    this.changed();
  }

  get isInitialDiscarded(): boolean {
    return this.initial === null;
  }

  /** The Key Phase bit we write into 1-RTT packets. */
  get keyPhase(): 0 | 1 {
    return this.phaseBit;
  }

  /** The suite of the 1-RTT keys (null before they exist). */
  get oneRttSuite(): CipherSuite | null {
    return this.oneRtt.write?.suite ?? null;
  }

  /**
   * Moves to the next key phase (RFC 9001 section 6.1 when we initiate,
   * 6.2 when the peer did): the current read keys become the previous ones,
   * both directions move to the next generation.
   */
  updateKeys(): void {
    const read = this.oneRtt.read;
    const write = this.oneRtt.write;
    if (read === null || write === null || this.nextRead === null) throw new UsageError('no 1-RTT keys to update');
    this.previousRead = read;
    this.oneRtt = { read: this.nextRead, write: nextPacketKeys(this.provider, write) };
    this.nextRead = nextPacketKeys(this.provider, this.oneRtt.read!);
    this.phaseBit = this.phaseBit === 0 ? 1 : 0;
    this.changed();
  }

  /** True while the previous phase's read keys are kept. */
  get hasPreviousReadKeys(): boolean {
    return this.previousRead !== null;
  }

  /** RFC 9001 section 6.5: old read keys go some time (three PTOs) after an update. */
  dropPreviousReadKeys(): void {
    this.previousRead = null;
    this.changed();
  }

  /** What packet-io opens with. */
  openKeys(): OpenKeys {
    if (this.openCache !== null) return this.openCache;
    const oneRttRead = this.oneRtt.read;
    let oneRtt: OpenKeys['oneRtt'] = null;
    if (oneRttRead !== null) {
      // The other phase: previous keys while kept, else the next generation.
      const other = (this.previousRead ?? this.nextRead)?.aead ?? null;
      oneRtt = { hp: oneRttRead.hp, aead: this.phaseBit === 0 ? [oneRttRead.aead, other] : [other, oneRttRead.aead] };
    }
    this.openCache = {
      initial: this.initial?.read ?? null,
      handshake: this.handshake.read,
      zeroRtt: this.role === 'server' ? this.early : null,
      oneRtt,
    };
    return this.openCache;
  }

  /** What packet-io protects with. */
  protectKeys(): ProtectKeys {
    if (this.protectCache !== null) return this.protectCache;
    this.protectCache = {
      initial: this.initial?.write ?? null,
      handshake: this.handshake.write,
      zeroRtt: this.role === 'client' ? this.early : null,
      oneRtt: this.oneRtt.write,
    };
    return this.protectCache;
  }

  private changed(): void {
    this.openCache = null;
    this.protectCache = null;
  }
}
