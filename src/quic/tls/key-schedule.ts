/**
 * The TLS 1.3 key schedule (RFC 8446 section 7.1) and the transcript hash (section 4.4.1), on a
 * {@link CryptoProvider}, for SHA-256 and SHA-384 suites.
 *
 * ```
 *              0
 *              |
 *              v
 *    PSK ->  HKDF-Extract = Early Secret
 *              |
 *              +-----> Derive-Secret(., "ext binder" | "res binder", "") = binder_key
 *              +-----> Derive-Secret(., "c e traffic", ClientHello) = client_early_traffic_secret
 *              +-----> Derive-Secret(., "e exp master", ClientHello) = early_exporter_master_secret
 *              v
 *        Derive-Secret(., "derived", "")
 *              |
 * (EC)DHE -> HKDF-Extract = Handshake Secret
 *              +-----> Derive-Secret(., "c hs traffic", ClientHello...ServerHello)
 *              +-----> Derive-Secret(., "s hs traffic", ClientHello...ServerHello)
 *              v
 *        Derive-Secret(., "derived", "")
 *              |
 *    0 -> HKDF-Extract = Master Secret
 *              +-----> Derive-Secret(., "c ap traffic", ClientHello...server Finished)
 *              +-----> Derive-Secret(., "s ap traffic", ClientHello...server Finished)
 *              +-----> Derive-Secret(., "exp master", ClientHello...server Finished)
 *              +-----> Derive-Secret(., "res master", ClientHello...client Finished)
 * ```
 *
 * Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages),
 * Hash.length). The functions here take transcript hashes, not messages: the caller keeps a
 * {@link Transcript} and reads its digest at the right points. QUIC derives packet keys from the
 * traffic secrets with its own labels (packet-protection.ts); {@link tlsTrafficKeys} is the TLS record
 * variant, kept for the RFC 8448 vectors.
 */
import { UsageError } from '../../combinators/errors.js';
import { HASH_LENGTH, hkdfExpandLabel, suiteInfo } from '../crypto/provider.js';
import type { CipherSuite, CryptoProvider, HashAlgorithm, HashContext } from '../crypto/provider.js';
import { CERTIFICATE_VERIFY_CONTEXT, HANDSHAKE_TYPES } from './constants.js';

const EMPTY = new Uint8Array(0);

/** Derive-Secret (RFC 8446 section 7.1): HKDF-Expand-Label(secret, label, transcriptHash, Hash.length). */
export function deriveSecret(
  provider: CryptoProvider,
  hash: HashAlgorithm,
  secret: Uint8Array,
  label: string,
  transcriptHash: Uint8Array,
): Uint8Array {
  return hkdfExpandLabel(provider, hash, secret, label, transcriptHash, HASH_LENGTH[hash]);
}

/** finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) (RFC 8446 section 4.4.4). */
export function finishedKey(provider: CryptoProvider, hash: HashAlgorithm, baseKey: Uint8Array): Uint8Array {
  return hkdfExpandLabel(provider, hash, baseKey, 'finished', EMPTY, HASH_LENGTH[hash]);
}

/**
 * verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context, Certificate*, CertificateVerify*))
 * (RFC 8446 section 4.4.4). `baseKey` is the sender's handshake traffic secret (or the binder key for a
 * PSK binder, section 4.2.11.2).
 */
export function finishedVerifyData(
  provider: CryptoProvider,
  hash: HashAlgorithm,
  baseKey: Uint8Array,
  transcriptHash: Uint8Array,
): Uint8Array {
  return provider.hmac(hash, finishedKey(provider, hash, baseKey), transcriptHash);
}

/** Compares in time independent of where the first difference is (Finished and binders are secrets' MACs). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Checks a received Finished (or PSK binder). RFC 8446 section 4.4.4: "Recipients of Finished messages
 * MUST verify that the contents are correct and if incorrect MUST terminate the connection with a
 * "decrypt_error" alert" (and section 4.2.11.2 for binders); the caller raises it on `false`.
 */
export function verifyFinished(
  provider: CryptoProvider,
  hash: HashAlgorithm,
  baseKey: Uint8Array,
  transcriptHash: Uint8Array,
  received: Uint8Array,
): boolean {
  return constantTimeEqual(finishedVerifyData(provider, hash, baseKey, transcriptHash), received);
}

/**
 * The PSK of a ticket: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce,
 * Hash.length) (RFC 8446 section 4.6.1).
 */
export function resumptionPsk(
  provider: CryptoProvider,
  hash: HashAlgorithm,
  resumptionMasterSecret: Uint8Array,
  ticketNonce: Uint8Array,
): Uint8Array {
  return hkdfExpandLabel(provider, hash, resumptionMasterSecret, 'resumption', ticketNonce, HASH_LENGTH[hash]);
}

/**
 * TLS-Exporter(label, context_value, key_length) = HKDF-Expand-Label(Derive-Secret(Secret, label, ""),
 * "exporter", Hash(context_value), key_length) (RFC 8446 section 7.5), with the (early) exporter master
 * secret.
 */
export function exportKeyingMaterial(
  provider: CryptoProvider,
  hash: HashAlgorithm,
  exporterMasterSecret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const secret = deriveSecret(provider, hash, exporterMasterSecret, label, provider.hash(hash, EMPTY));
  return hkdfExpandLabel(provider, hash, secret, 'exporter', provider.hash(hash, context), length);
}

/**
 * The TLS record key and IV of a traffic secret (RFC 8446 section 7.3): HKDF-Expand-Label with "key"
 * and "iv". QUIC does not use these (it uses "quic key", "quic iv", "quic hp", RFC 9001 section 5.1);
 * they are here for the RFC 8448 traces.
 */
export function tlsTrafficKeys(provider: CryptoProvider, suite: CipherSuite, secret: Uint8Array): { key: Uint8Array; iv: Uint8Array } {
  const info = suiteInfo(suite);
  return {
    key: hkdfExpandLabel(provider, info.hash, secret, 'key', EMPTY, info.keyLength),
    iv: hkdfExpandLabel(provider, info.hash, secret, 'iv', EMPTY, info.ivLength),
  };
}

const SPACES = 64;

/**
 * The content a CertificateVerify signature covers (RFC 8446 section 4.4.3): 64 bytes of 0x20, the
 * context string ("TLS 1.3, server CertificateVerify" or "TLS 1.3, client CertificateVerify"), a 0
 * byte, then Transcript-Hash(Handshake Context, Certificate).
 */
export function certificateVerifyContent(role: 'server' | 'client', transcriptHash: Uint8Array): Uint8Array {
  const context = CERTIFICATE_VERIFY_CONTEXT[role];
  const out = new Uint8Array(SPACES + context.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, SPACES);
  for (let i = 0; i < context.length; i++) out[SPACES + i] = context.charCodeAt(i);
  out[SPACES + context.length] = 0;
  out.set(transcriptHash, SPACES + context.length + 1);
  return out;
}

/** Which binder label a PSK uses (RFC 8446 section 7.1): "ext binder" for external PSKs, "res binder" for tickets. */
export type PskKind = 'external' | 'resumption';

/** Where a {@link KeySchedule} is: which extract step it did last. */
export type KeyScheduleStage = 'early' | 'handshake' | 'master';

/**
 * The secrets of one handshake, in the order RFC 8446 section 7.1 derives them. Construct it with the
 * PSK (or none), call {@link KeySchedule.toHandshake} with the (EC)DHE shared secret, then
 * {@link KeySchedule.toMaster}. Each derive method needs its stage: asking for a handshake traffic
 * secret before `toHandshake` is a UsageError (a state machine bug, not bad input).
 */
export class KeySchedule {
  readonly hash: HashAlgorithm;
  readonly hashLength: 32 | 48;
  /** HKDF-Extract(0, PSK or HashLen zeros). */
  readonly earlySecret: Uint8Array;
  private stageValue: KeyScheduleStage = 'early';
  private handshakeSecretValue: Uint8Array | null = null;
  private masterSecretValue: Uint8Array | null = null;
  private readonly emptyHash: Uint8Array;

  /**
   * @param psk the PSK (a ticket's {@link resumptionPsk}, or an external PSK), or null for a full
   *   handshake: "if PSK is not in use, IKM is a string of Hash.length bytes set to 0".
   */
  constructor(
    private readonly provider: CryptoProvider,
    hash: HashAlgorithm,
    psk: Uint8Array | null = null,
  ) {
    if (hash !== 'sha256' && hash !== 'sha384') throw new UsageError(`unsupported hash ${String(hash)}`);
    this.hash = hash;
    this.hashLength = HASH_LENGTH[hash];
    this.emptyHash = provider.hash(hash, EMPTY);
    // RFC 8446 section 7.1: the salt of the first extract is 0 (HashLen zeros; an empty HMAC key is the same).
    this.earlySecret = provider.hkdfExtract(hash, EMPTY, psk ?? new Uint8Array(this.hashLength));
  }

  get stage(): KeyScheduleStage {
    return this.stageValue;
  }

  /** binder_key = Derive-Secret(Early Secret, "ext binder" | "res binder", "") (RFC 8446 section 7.1). */
  binderKey(kind: PskKind): Uint8Array {
    return deriveSecret(this.provider, this.hash, this.earlySecret, kind === 'external' ? 'ext binder' : 'res binder', this.emptyHash);
  }

  /**
   * A PSK binder (RFC 8446 section 4.2.11.2): the Finished computation keyed by the binder key, over
   * Transcript-Hash(Truncate(ClientHello)) (with ClientHello1 and HelloRetryRequest before it after a
   * retry).
   */
  binder(kind: PskKind, truncatedTranscriptHash: Uint8Array): Uint8Array {
    return finishedVerifyData(this.provider, this.hash, this.binderKey(kind), truncatedTranscriptHash);
  }

  /** client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello). */
  clientEarlyTrafficSecret(clientHelloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.provider, this.hash, this.earlySecret, 'c e traffic', clientHelloHash);
  }

  /** early_exporter_master_secret = Derive-Secret(Early Secret, "e exp master", ClientHello). */
  earlyExporterMasterSecret(clientHelloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.provider, this.hash, this.earlySecret, 'e exp master', clientHelloHash);
  }

  /**
   * Handshake Secret = HKDF-Extract(Derive-Secret(Early Secret, "derived", ""), (EC)DHE). `sharedSecret`
   * null means psk_ke mode (no (EC)DHE): Hash.length zeros, as for the master secret.
   */
  toHandshake(sharedSecret: Uint8Array | null): Uint8Array {
    this.expect('early', 'toHandshake');
    const salt = deriveSecret(this.provider, this.hash, this.earlySecret, 'derived', this.emptyHash);
    this.handshakeSecretValue = this.provider.hkdfExtract(this.hash, salt, sharedSecret ?? new Uint8Array(this.hashLength));
    this.stageValue = 'handshake';
    return this.handshakeSecretValue;
  }

  get handshakeSecret(): Uint8Array {
    return this.need(this.handshakeSecretValue, 'handshakeSecret');
  }

  /** client_handshake_traffic_secret = Derive-Secret(Handshake Secret, "c hs traffic", ClientHello...ServerHello). */
  clientHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.provider, this.hash, this.handshakeSecret, 'c hs traffic', helloHash);
  }

  /** server_handshake_traffic_secret = Derive-Secret(Handshake Secret, "s hs traffic", ClientHello...ServerHello). */
  serverHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.provider, this.hash, this.handshakeSecret, 's hs traffic', helloHash);
  }

  /** Master Secret = HKDF-Extract(Derive-Secret(Handshake Secret, "derived", ""), 0). */
  toMaster(): Uint8Array {
    this.expect('handshake', 'toMaster');
    const salt = deriveSecret(this.provider, this.hash, this.handshakeSecret, 'derived', this.emptyHash);
    this.masterSecretValue = this.provider.hkdfExtract(this.hash, salt, new Uint8Array(this.hashLength));
    this.stageValue = 'master';
    return this.masterSecretValue;
  }

  get masterSecret(): Uint8Array {
    return this.need(this.masterSecretValue, 'masterSecret');
  }

  /** client_application_traffic_secret_0 = Derive-Secret(Master Secret, "c ap traffic", ClientHello...server Finished). */
  clientApplicationTrafficSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.provider, this.hash, this.masterSecret, 'c ap traffic', serverFinishedHash);
  }

  /** server_application_traffic_secret_0 = Derive-Secret(Master Secret, "s ap traffic", ClientHello...server Finished). */
  serverApplicationTrafficSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.provider, this.hash, this.masterSecret, 's ap traffic', serverFinishedHash);
  }

  /** exporter_master_secret = Derive-Secret(Master Secret, "exp master", ClientHello...server Finished). */
  exporterMasterSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.provider, this.hash, this.masterSecret, 'exp master', serverFinishedHash);
  }

  /** resumption_master_secret = Derive-Secret(Master Secret, "res master", ClientHello...client Finished). */
  resumptionMasterSecret(clientFinishedHash: Uint8Array): Uint8Array {
    return deriveSecret(this.provider, this.hash, this.masterSecret, 'res master', clientFinishedHash);
  }

  private expect(stage: KeyScheduleStage, what: string): void {
    if (this.stageValue !== stage) throw new UsageError(`KeySchedule.${what}() in stage ${this.stageValue}, needs ${stage}`);
  }

  private need(v: Uint8Array | null, what: string): Uint8Array {
    if (v === null) throw new UsageError(`KeySchedule.${what} is not derived yet (stage ${this.stageValue})`);
    return v;
  }
}

/**
 * The running transcript hash of one handshake (RFC 8446 section 4.4.1): Hash of the handshake
 * messages in order, headers included, as sent or received.
 *
 * The hash is the cipher suite's, which a client only learns from the ServerHello (or
 * HelloRetryRequest): until {@link Transcript.setHash} the messages are kept and hashed when it is
 * called. A HelloRetryRequest rewrites the start of the transcript: "the value of ClientHello1 is
 * replaced with a special synthetic handshake message of handshake type "message_hash" containing
 * Hash(ClientHello1)" ({@link Transcript.replaceWithMessageHash}).
 */
export class Transcript {
  private context: HashContext | null = null;
  /** Messages added before the hash was known. */
  private pending: Uint8Array[] = [];
  /** The messages added so far, counted, and the first one kept while it is the only one (for message_hash). */
  private count = 0;
  private first: Uint8Array | null = null;

  constructor(private readonly provider: CryptoProvider) {}

  /** The hash in use, or null before {@link setHash}. */
  get hash(): HashAlgorithm | null {
    return this.context === null ? null : this.context.algorithm;
  }

  /** Messages added so far (the synthetic message_hash counts as one). */
  get length(): number {
    return this.count;
  }

  /** Sets the hash once it is known and hashes the messages kept until then. Setting another hash later is a UsageError. */
  setHash(hash: HashAlgorithm): void {
    if (this.context !== null) {
      if (this.context.algorithm !== hash) throw new UsageError(`transcript hash is ${this.context.algorithm}, cannot switch to ${hash}`);
      return;
    }
    this.context = this.provider.createHash(hash);
    for (const m of this.pending) this.context.update(m);
    this.pending = [];
  }

  /** Appends one whole handshake message (4-byte header included). */
  add(message: Uint8Array): void {
    if (this.context === null) this.pending.push(message);
    else this.context.update(message);
    this.count++;
    this.first = this.count === 1 ? message : null;
  }

  /** Transcript-Hash of the messages so far (the hash must be set). */
  digest(): Uint8Array {
    return this.need().digest();
  }

  /**
   * Transcript-Hash of the messages so far followed by `extra`, without adding it: the hash over a
   * truncated ClientHello for PSK binders (RFC 8446 section 4.2.11.2), or over a message not yet sent.
   */
  digestWith(extra: Uint8Array): Uint8Array {
    const c = this.need().clone();
    c.update(extra);
    return c.digest();
  }

  /**
   * RFC 8446 section 4.4.1: after a HelloRetryRequest the transcript starts with
   * `message_hash (254) || 00 00 Hash.length || Hash(ClientHello1)` instead of ClientHello1. Call with the
   * hash set and ClientHello1 as the only message, before adding the HelloRetryRequest.
   */
  replaceWithMessageHash(): void {
    const context = this.need();
    if (this.count !== 1 || this.first === null)
      throw new UsageError('replaceWithMessageHash needs ClientHello1 as the only transcript message');
    const digest = this.provider.hash(context.algorithm, this.first);
    const synthetic = new Uint8Array(4 + digest.length);
    synthetic[0] = HANDSHAKE_TYPES.message_hash.code;
    synthetic[3] = digest.length;
    synthetic.set(digest, 4);
    this.context = this.provider.createHash(context.algorithm);
    this.context.update(synthetic);
    this.first = synthetic;
  }

  private need(): HashContext {
    if (this.context === null) throw new UsageError('transcript hash used before setHash()');
    return this.context;
  }
}
