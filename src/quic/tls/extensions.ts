/**
 * TLS 1.3 extensions (RFC 8446 section 4.2) for the handshake messages QUIC uses, decoded and encoded
 * side by side.
 *
 * An extension's body depends on the message it is in (a key_share is a list of shares in a
 * ClientHello, one share in a ServerHello, a group in a HelloRetryRequest), so each message has its own
 * union of extension types ({@link ClientHelloExtension}, {@link ServerHelloExtension}...), every
 * member tagged with the extension's name from {@link EXTENSION_TYPES}. Extensions this codec does not
 * interpret travel as {@link OpaqueExtension} (type code and body bytes) and are re-encoded unchanged:
 * "unknown" extensions must be ignored by a receiver (RFC 8446 section 4.2, 4.1.2), but the bytes stay
 * part of the transcript, so a round trip must be exact.
 *
 * The block decoder enforces the generic rules of section 4.2, each with an `illegal_parameter` alert:
 * - a known extension in a message the table does not list for it ("MUST abort the handshake with an
 *   "illegal_parameter" alert");
 * - two extensions of the same type ("There MUST NOT be more than one extension of the same type in a
 *   given extension block");
 * - in a ClientHello, pre_shared_key not last (section 4.2.11: "Servers MUST check that it is the last
 *   extension and otherwise fail the handshake with an "illegal_parameter" alert").
 * Whether an extension was offered, is required, or has acceptable values is the state machine's job.
 *
 * Byte fields are views into the decoded message (see messages.ts for how long they stay valid).
 */
import { EncodeError, ParseError } from '../../combinators/errors.js';
import { Parser, gen } from '../../combinators/parser.js';
import { u16be, u32be, u8 } from '../../combinators/primitives.js';
import { rest } from '../../combinators/delimited.js';
import { INCOMPLETE, type Incomplete, type Source } from '../../combinators/source.js';
import type { Writer } from '../../combinators/writer.js';
import { EXTENSION_TYPES, extensionTypeName, type ExtensionContext, type ExtensionTypeName } from './constants.js';
import { opaque, readRegion, vector, writeOpaque, writeU16s, writeVector, type VectorBounds } from './codec.js';
import { TlsAlertError } from './errors.js';

// ---------------------------------------------------------------------------------------------------
// extension values

/** An extension kept as bytes: an unknown type, or a known one this codec does not interpret. */
export interface OpaqueExtension {
  readonly type: 'opaque';
  /** The ExtensionType code (RFC 8446 section 4.2). */
  readonly code: number;
  readonly data: Uint8Array;
}

/** One ServerName of RFC 6066 section 3 (`nameType` 0 is host_name: ASCII, no trailing dot). */
export interface ServerName {
  readonly nameType: number;
  readonly name: Uint8Array;
}

/** server_name in a ClientHello: the ServerNameList (RFC 6066 section 3). */
export interface ServerNameList {
  readonly type: 'server_name';
  readonly names: readonly ServerName[];
}

/** server_name in EncryptedExtensions: empty, "the server used the name" (RFC 6066 section 3). */
export interface ServerNameAck {
  readonly type: 'server_name';
}

/** supported_groups (RFC 8446 section 4.2.7): NamedGroup codes, in preference order. */
export interface SupportedGroups {
  readonly type: 'supported_groups';
  readonly groups: readonly number[];
}

/** signature_algorithms (RFC 8446 section 4.2.3): SignatureScheme codes for CertificateVerify. */
export interface SignatureAlgorithms {
  readonly type: 'signature_algorithms';
  readonly schemes: readonly number[];
}

/** signature_algorithms_cert (RFC 8446 section 4.2.3): SignatureScheme codes for certificate signatures. */
export interface SignatureAlgorithmsCert {
  readonly type: 'signature_algorithms_cert';
  readonly schemes: readonly number[];
}

/**
 * application_layer_protocol_negotiation (RFC 7301 section 3.1): protocol names as bytes. A server's
 * list must hold exactly one name (RFC 7301 section 3.1); that check belongs to the state machine.
 */
export interface Alpn {
  readonly type: 'application_layer_protocol_negotiation';
  readonly protocols: readonly Uint8Array[];
}

/** quic_transport_parameters (RFC 9001 section 8.2): the body, decoded by the QUIC layer. */
export interface QuicTransportParameters {
  readonly type: 'quic_transport_parameters';
  readonly data: Uint8Array;
}

/** psk_key_exchange_modes (RFC 8446 section 4.2.9): psk_ke (0), psk_dhe_ke (1). */
export interface PskKeyExchangeModes {
  readonly type: 'psk_key_exchange_modes';
  readonly modes: readonly number[];
}

/** One PskIdentity (RFC 8446 section 4.2.11). */
export interface PskIdentity {
  readonly identity: Uint8Array;
  readonly obfuscatedTicketAge: number;
}

/** pre_shared_key in a ClientHello: OfferedPsks (RFC 8446 section 4.2.11). */
export interface OfferedPsks {
  readonly type: 'pre_shared_key';
  readonly identities: readonly PskIdentity[];
  /** One HMAC per identity, in the same order (section 4.2.11.2). */
  readonly binders: readonly Uint8Array[];
}

/** pre_shared_key in a ServerHello: the index of the chosen identity. */
export interface SelectedPsk {
  readonly type: 'pre_shared_key';
  readonly selectedIdentity: number;
}

/** early_data in a ClientHello or EncryptedExtensions: empty (RFC 8446 section 4.2.10). */
export interface EarlyDataIndication {
  readonly type: 'early_data';
}

/**
 * early_data in a NewSessionTicket: the most 0-RTT bytes the server accepts (RFC 8446 section 4.2.10;
 * RFC 9001 section 4.6.1: in QUIC it must be 0xffffffff or absent, a check for the state machine).
 */
export interface EarlyDataTicket {
  readonly type: 'early_data';
  readonly maxEarlyDataSize: number;
}

/** cookie (RFC 8446 section 4.2.2). */
export interface Cookie {
  readonly type: 'cookie';
  readonly cookie: Uint8Array;
}

/** supported_versions in a ClientHello (RFC 8446 section 4.2.1): ProtocolVersion codes. */
export interface SupportedVersionsList {
  readonly type: 'supported_versions';
  readonly versions: readonly number[];
}

/** supported_versions in a ServerHello or HelloRetryRequest: the selected version. */
export interface SelectedVersion {
  readonly type: 'supported_versions';
  readonly version: number;
}

/** A KeyShareEntry (RFC 8446 section 4.2.8). */
export interface KeyShareEntry {
  readonly group: number;
  readonly keyExchange: Uint8Array;
}

/** key_share in a ClientHello: the client's shares, in preference order. */
export interface KeyShareClientHello {
  readonly type: 'key_share';
  readonly shares: readonly KeyShareEntry[];
}

/** key_share in a ServerHello: the server's share. */
export interface KeyShareServerHello {
  readonly type: 'key_share';
  readonly share: KeyShareEntry;
}

/** key_share in a HelloRetryRequest: the group the client must use. */
export interface KeyShareHelloRetryRequest {
  readonly type: 'key_share';
  readonly selectedGroup: number;
}

export type ClientHelloExtension =
  | ServerNameList
  | SupportedGroups
  | SignatureAlgorithms
  | SignatureAlgorithmsCert
  | Alpn
  | QuicTransportParameters
  | PskKeyExchangeModes
  | OfferedPsks
  | EarlyDataIndication
  | Cookie
  | SupportedVersionsList
  | KeyShareClientHello
  | OpaqueExtension;

export type ServerHelloExtension = KeyShareServerHello | SelectedPsk | SelectedVersion | OpaqueExtension;

export type HelloRetryRequestExtension = KeyShareHelloRetryRequest | Cookie | SelectedVersion | OpaqueExtension;

export type EncryptedExtensionsExtension =
  ServerNameAck | SupportedGroups | Alpn | QuicTransportParameters | EarlyDataIndication | OpaqueExtension;

export type CertificateRequestExtension = SignatureAlgorithms | SignatureAlgorithmsCert | OpaqueExtension;

/** Extensions of a CertificateEntry (status_request, signed_certificate_timestamp): kept as bytes. */
export type CertificateEntryExtension = OpaqueExtension;

export type NewSessionTicketExtension = EarlyDataTicket | OpaqueExtension;

/** The extension union of each message context. */
export interface ExtensionsOf {
  CH: ClientHelloExtension;
  SH: ServerHelloExtension;
  HRR: HelloRetryRequestExtension;
  EE: EncryptedExtensionsExtension;
  CT: CertificateEntryExtension;
  CR: CertificateRequestExtension;
  NST: NewSessionTicketExtension;
}

/** Any extension of any message. */
export type Extension = ExtensionsOf[ExtensionContext];

// ---------------------------------------------------------------------------------------------------
// body codecs, per extension and context

/** How one extension body is read and written in one context. */
interface BodyCodec<E> {
  readonly read: Parser<E>;
  write(w: Writer, ext: E): void;
}

const u16s = (b: VectorBounds): Parser<number[]> => vector(b, u16be);

// Bounds from RFC 8446 appendix B.3.1 (and RFC 6066 section 3, RFC 7301 section 3.1, RFC 9001 section 8.2).
const NAMED_GROUP_LIST: VectorBounds = { width: 2, min: 2, max: 0xffff, name: 'named_group_list' };
const SCHEME_LIST: VectorBounds = { width: 2, min: 2, max: 0xfffe, name: 'supported_signature_algorithms' };
const SERVER_NAME_LIST: VectorBounds = { width: 2, min: 1, max: 0xffff, name: 'server_name_list' };
const HOST_NAME: VectorBounds = { width: 2, min: 1, max: 0xffff, name: 'HostName' };
const PROTOCOL_NAME_LIST: VectorBounds = { width: 2, min: 2, max: 0xffff, name: 'protocol_name_list' };
const PROTOCOL_NAME: VectorBounds = { width: 1, min: 1, max: 0xff, name: 'ProtocolName' };
const KE_MODES: VectorBounds = { width: 1, min: 1, max: 0xff, name: 'ke_modes' };
const IDENTITIES: VectorBounds = { width: 2, min: 7, max: 0xffff, name: 'identities' };
const IDENTITY: VectorBounds = { width: 2, min: 1, max: 0xffff, name: 'identity' };
const BINDERS: VectorBounds = { width: 2, min: 33, max: 0xffff, name: 'binders' };
const BINDER: VectorBounds = { width: 1, min: 32, max: 0xff, name: 'PskBinderEntry' };
const COOKIE: VectorBounds = { width: 2, min: 1, max: 0xffff, name: 'cookie' };
const VERSIONS: VectorBounds = { width: 1, min: 2, max: 254, name: 'versions' };
const CLIENT_SHARES: VectorBounds = { width: 2, min: 0, max: 0xffff, name: 'client_shares' };
const KEY_EXCHANGE: VectorBounds = { width: 2, min: 1, max: 0xffff, name: 'key_exchange' };

const empty = <E>(value: E): BodyCodec<E> => ({
  read: gen('empty extension', function* () {
    // Nothing to read: the enclosing region must be empty (ERR_REGION_UNDERRUN otherwise).
    yield* [];
    return value;
  }),
  write: () => {},
});

const keyShareEntry: Parser<KeyShareEntry> = gen('KeyShareEntry', function* () {
  const group = yield* u16be;
  const keyExchange = yield* opaque(KEY_EXCHANGE);
  return { group, keyExchange };
});

function writeKeyShareEntry(w: Writer, e: KeyShareEntry): void {
  w.u16be(e.group);
  writeOpaque(w, KEY_EXCHANGE, e.keyExchange);
}

const serverName: Parser<ServerName> = gen('ServerName', function* () {
  const nameType = yield* u8;
  // RFC 6066 defines only host_name; every name is read as opaque<1..2^16-1>, as deployed stacks do.
  const name = yield* opaque(HOST_NAME);
  return { nameType, name };
});

const pskIdentity: Parser<PskIdentity> = gen('PskIdentity', function* () {
  const identity = yield* opaque(IDENTITY);
  const obfuscatedTicketAge = yield* u32be;
  return { identity, obfuscatedTicketAge };
});

const supportedGroups: BodyCodec<SupportedGroups> = {
  read: u16s(NAMED_GROUP_LIST).map((groups) => ({ type: 'supported_groups', groups })),
  write: (w, e) => writeVector(w, NAMED_GROUP_LIST, () => writeU16s(w, e.groups)),
};

const signatureAlgorithms: BodyCodec<SignatureAlgorithms> = {
  read: u16s(SCHEME_LIST).map((schemes) => ({ type: 'signature_algorithms', schemes })),
  write: (w, e) => writeVector(w, SCHEME_LIST, () => writeU16s(w, e.schemes)),
};

const signatureAlgorithmsCert: BodyCodec<SignatureAlgorithmsCert> = {
  read: u16s(SCHEME_LIST).map((schemes) => ({ type: 'signature_algorithms_cert', schemes })),
  write: (w, e) => writeVector(w, SCHEME_LIST, () => writeU16s(w, e.schemes)),
};

const alpn: BodyCodec<Alpn> = {
  read: vector(PROTOCOL_NAME_LIST, opaque(PROTOCOL_NAME)).map((protocols) => ({
    type: 'application_layer_protocol_negotiation',
    protocols,
  })),
  write: (w, e) =>
    writeVector(w, PROTOCOL_NAME_LIST, () => {
      for (const p of e.protocols) writeOpaque(w, PROTOCOL_NAME, p);
    }),
};

const quicTransportParameters: BodyCodec<QuicTransportParameters> = {
  // The whole body is the parameters (RFC 9001 section 8.2); transport-params.ts decodes it.
  read: rest.map((data) => ({ type: 'quic_transport_parameters', data })),
  write: (w, e) => {
    w.bytes(e.data);
  },
};

const cookie: BodyCodec<Cookie> = {
  read: opaque(COOKIE).map((c) => ({ type: 'cookie', cookie: c })),
  write: (w, e) => writeOpaque(w, COOKIE, e.cookie),
};

const selectedVersion: BodyCodec<SelectedVersion> = {
  read: u16be.map((version) => ({ type: 'supported_versions', version })),
  write: (w, e) => {
    w.u16be(e.version);
  },
};

const CLIENT_HELLO: ReadonlyMap<number, BodyCodec<ClientHelloExtension>> = codecTable<ClientHelloExtension>({
  server_name: {
    read: vector(SERVER_NAME_LIST, serverName).map((names) => ({ type: 'server_name', names })),
    write: (w, e) =>
      writeVector(w, SERVER_NAME_LIST, () => {
        for (const n of e.names) {
          w.u8(n.nameType);
          writeOpaque(w, HOST_NAME, n.name);
        }
      }),
  } satisfies BodyCodec<ServerNameList>,
  supported_groups: supportedGroups,
  signature_algorithms: signatureAlgorithms,
  signature_algorithms_cert: signatureAlgorithmsCert,
  application_layer_protocol_negotiation: alpn,
  quic_transport_parameters: quicTransportParameters,
  psk_key_exchange_modes: {
    read: vector(KE_MODES, u8).map((modes) => ({ type: 'psk_key_exchange_modes', modes })),
    write: (w, e) =>
      writeVector(w, KE_MODES, () => {
        for (const m of e.modes) w.u8(m);
      }),
  } satisfies BodyCodec<PskKeyExchangeModes>,
  pre_shared_key: {
    read: gen('OfferedPsks', function* () {
      const identities = yield* vector(IDENTITIES, pskIdentity);
      const binders = yield* vector(BINDERS, opaque(BINDER));
      return { type: 'pre_shared_key', identities, binders } as OfferedPsks;
    }),
    write: (w, e) => {
      writeVector(w, IDENTITIES, () => {
        for (const id of e.identities) {
          writeOpaque(w, IDENTITY, id.identity);
          w.u32be(id.obfuscatedTicketAge);
        }
      });
      writeVector(w, BINDERS, () => {
        for (const b of e.binders) writeOpaque(w, BINDER, b);
      });
    },
  } satisfies BodyCodec<OfferedPsks>,
  early_data: empty<EarlyDataIndication>({ type: 'early_data' }),
  cookie,
  supported_versions: {
    read: vector(VERSIONS, u16be).map((versions) => ({ type: 'supported_versions', versions })),
    write: (w, e) => writeVector(w, VERSIONS, () => writeU16s(w, e.versions)),
  } satisfies BodyCodec<SupportedVersionsList>,
  key_share: {
    read: vector(CLIENT_SHARES, keyShareEntry).map((shares) => ({ type: 'key_share', shares })),
    write: (w, e) =>
      writeVector(w, CLIENT_SHARES, () => {
        for (const s of e.shares) writeKeyShareEntry(w, s);
      }),
  } satisfies BodyCodec<KeyShareClientHello>,
});

const SERVER_HELLO = codecTable<ServerHelloExtension>({
  key_share: {
    read: keyShareEntry.map((share) => ({ type: 'key_share', share })),
    write: (w, e) => writeKeyShareEntry(w, e.share),
  } satisfies BodyCodec<KeyShareServerHello>,
  pre_shared_key: {
    read: u16be.map((selectedIdentity) => ({ type: 'pre_shared_key', selectedIdentity })),
    write: (w, e) => {
      w.u16be(e.selectedIdentity);
    },
  } satisfies BodyCodec<SelectedPsk>,
  supported_versions: selectedVersion,
});

const HELLO_RETRY_REQUEST = codecTable<HelloRetryRequestExtension>({
  key_share: {
    read: u16be.map((selectedGroup) => ({ type: 'key_share', selectedGroup })),
    write: (w, e) => {
      w.u16be(e.selectedGroup);
    },
  } satisfies BodyCodec<KeyShareHelloRetryRequest>,
  cookie,
  supported_versions: selectedVersion,
});

const ENCRYPTED_EXTENSIONS = codecTable<EncryptedExtensionsExtension>({
  server_name: empty<ServerNameAck>({ type: 'server_name' }),
  supported_groups: supportedGroups,
  application_layer_protocol_negotiation: alpn,
  quic_transport_parameters: quicTransportParameters,
  early_data: empty<EarlyDataIndication>({ type: 'early_data' }),
});

const CERTIFICATE_REQUEST = codecTable<CertificateRequestExtension>({
  signature_algorithms: signatureAlgorithms,
  signature_algorithms_cert: signatureAlgorithmsCert,
});

const NEW_SESSION_TICKET = codecTable<NewSessionTicketExtension>({
  early_data: {
    read: u32be.map((maxEarlyDataSize) => ({ type: 'early_data', maxEarlyDataSize })),
    write: (w, e) => {
      w.u32be(e.maxEarlyDataSize);
    },
  } satisfies BodyCodec<EarlyDataTicket>,
});

/**
 * Builds a code → codec map from codecs keyed by extension name. Every name must be allowed in the
 * context by {@link EXTENSION_TYPES} (checked when the module loads, through the types).
 */
function codecTable<E extends Extension>(codecs: {
  readonly [N in Exclude<E['type'], 'opaque'> & ExtensionTypeName]: BodyCodec<Extract<E, { type: N }>>;
}): ReadonlyMap<number, BodyCodec<E>> {
  const map = new Map<number, BodyCodec<E>>();
  for (const name of Object.keys(codecs) as (keyof typeof codecs)[]) {
    map.set(EXTENSION_TYPES[name].code, codecs[name] as unknown as BodyCodec<E>);
  }
  return map;
}

const CODECS: { readonly [C in ExtensionContext]: ReadonlyMap<number, BodyCodec<ExtensionsOf[C]>> } = {
  CH: CLIENT_HELLO,
  SH: SERVER_HELLO,
  HRR: HELLO_RETRY_REQUEST,
  EE: ENCRYPTED_EXTENSIONS,
  CT: new Map(),
  CR: CERTIFICATE_REQUEST,
  NST: NEW_SESSION_TICKET,
};

// ---------------------------------------------------------------------------------------------------
// extension blocks

/** The ExtensionType code of an extension value. */
export function extensionCode(ext: Extension): number {
  return ext.type === 'opaque' ? ext.code : EXTENSION_TYPES[ext.type].code;
}

/** Whether an extension of type `code` may appear in `context` (RFC 8446 section 4.2's table); unknown types may appear anywhere. */
export function extensionAllowedIn(code: number, context: ExtensionContext): boolean {
  const name = extensionTypeName(code);
  return name === null || (EXTENSION_TYPES[name].in as readonly ExtensionContext[]).includes(context);
}

const MESSAGE_OF: Readonly<Record<ExtensionContext, string>> = {
  CH: 'ClientHello',
  SH: 'ServerHello',
  HRR: 'HelloRetryRequest',
  EE: 'EncryptedExtensions',
  CT: 'Certificate',
  CR: 'CertificateRequest',
  NST: 'NewSessionTicket',
};

/**
 * One `Extension` of a block: type, length, and the body read by the context's codec inside a region of
 * exactly that length (a parser class for the same reason as codec.ts's vectors: extensions are many).
 */
class ExtensionEntryParser<C extends ExtensionContext> extends Parser<ExtensionsOf[C]> {
  private readonly codecs: ReadonlyMap<number, BodyCodec<ExtensionsOf[C]>>;
  constructor(private readonly context: C) {
    super(`${MESSAGE_OF[context]} extension`);
    this.codecs = CODECS[context] as ReadonlyMap<number, BodyCodec<ExtensionsOf[C]>>;
  }
  readFast(s: Source): ExtensionsOf[C] | Incomplete {
    const m = s.mark();
    try {
      const header = s.available >= 4 ? s.take(4, this.name) : s.short(4, this.name);
      if (header === INCOMPLETE) {
        s.reset(m);
        return INCOMPLETE;
      }
      const code = (header[0]! << 8) | header[1]!;
      const length = (header[2]! << 8) | header[3]!;
      if (!extensionAllowedIn(code, this.context)) {
        throw new TlsAlertError(
          'illegal_parameter',
          `extension ${extensionTypeName(code)} is not allowed in ${MESSAGE_OF[this.context]} (RFC 8446 section 4.2)`,
        );
      }
      const codec = this.codecs.get(code);
      const v =
        codec === undefined
          ? readRegion(
              s,
              length,
              this.name,
              (r) => ({ type: 'opaque', code, data: r.take(length, this.name) as Uint8Array }) as ExtensionsOf[C],
            )
          : readRegion(s, length, this.name, (r) => readAll(codec.read, r));
      if (v === INCOMPLETE) s.reset(m);
      else s.commit();
      return v;
    } catch (e) {
      s.reset(m);
      throw e;
    }
  }
}

/** Runs a parser on a region that is wholly buffered: its fast path always completes or raises. */
function readAll<T>(p: Parser<T>, s: Source): T {
  const v = p.readFast(s);
  if (v === INCOMPLETE) throw new ParseError('ERR_MALFORMED', s.position, p.name, 'incomplete inside a complete region');
  return v;
}

/** Checks the block-level rules of RFC 8446 section 4.2 on decoded extensions. */
function checkBlock(context: ExtensionContext, exts: readonly Extension[]): void {
  const seen = new Set<number>();
  for (const e of exts) {
    const code = extensionCode(e);
    if (seen.has(code))
      throw new TlsAlertError('illegal_parameter', `two extensions of type ${code} in ${MESSAGE_OF[context]} (RFC 8446 section 4.2)`);
    seen.add(code);
  }
  const psk = EXTENSION_TYPES.pre_shared_key.code;
  if (context === 'CH' && seen.has(psk) && extensionCode(exts[exts.length - 1]!) !== psk) {
    throw new TlsAlertError('illegal_parameter', 'pre_shared_key is not the last ClientHello extension (RFC 8446 section 4.2.11)');
  }
}

/** Bounds of each message's `Extension extensions<..>` (RFC 8446 appendix B.3). */
const BLOCK_BOUNDS: Readonly<Record<ExtensionContext, VectorBounds>> = {
  CH: { width: 2, min: 8, max: 0xffff, name: 'ClientHello.extensions' },
  SH: { width: 2, min: 6, max: 0xffff, name: 'ServerHello.extensions' },
  HRR: { width: 2, min: 6, max: 0xffff, name: 'HelloRetryRequest.extensions' },
  EE: { width: 2, min: 0, max: 0xffff, name: 'EncryptedExtensions.extensions' },
  CT: { width: 2, min: 0, max: 0xffff, name: 'CertificateEntry.extensions' },
  CR: { width: 2, min: 2, max: 0xffff, name: 'CertificateRequest.extensions' },
  NST: { width: 2, min: 0, max: 0xfffe, name: 'NewSessionTicket.extensions' },
};

const BLOCKS = new Map<ExtensionContext, Parser<Extension[]>>();

/** The parser of a message's extension block, with the checks of section 4.2. */
export function extensionBlock<C extends ExtensionContext>(context: C): Parser<ExtensionsOf[C][]> {
  let p = BLOCKS.get(context);
  if (p === undefined) {
    const list = vector(BLOCK_BOUNDS[context], new ExtensionEntryParser(context));
    p = gen(BLOCK_BOUNDS[context].name, function* () {
      const exts = yield* list;
      checkBlock(context, exts);
      return exts;
    });
    BLOCKS.set(context, p);
  }
  return p as Parser<ExtensionsOf[C][]>;
}

/**
 * Writes a message's extension block. Raises an EncodeError for what the decoder would refuse: an
 * extension not allowed in the context, a duplicate, pre_shared_key not last in a ClientHello, an
 * opaque extension whose type this context interprets (it would not decode back to itself).
 */
export function writeExtensionBlock<C extends ExtensionContext>(w: Writer, context: C, exts: readonly ExtensionsOf[C][]): void {
  const codecs = CODECS[context] as ReadonlyMap<number, BodyCodec<ExtensionsOf[C]>>;
  try {
    checkBlock(context, exts);
  } catch (e) {
    if (e instanceof TlsAlertError) throw new EncodeError('ERR_ENCODE_RANGE', e.reason);
    throw e;
  }
  writeVector(w, BLOCK_BOUNDS[context], () => {
    for (const ext of exts) {
      const code = extensionCode(ext);
      if (!extensionAllowedIn(code, context))
        throw new EncodeError('ERR_ENCODE_RANGE', `extension ${code} is not allowed in ${MESSAGE_OF[context]}`);
      const codec = codecs.get(code);
      w.u16be(code);
      const mark = w.beginLength('u16be');
      if (ext.type === 'opaque') {
        if (codec !== undefined)
          throw new EncodeError('ERR_ENCODE_RANGE', `opaque extension ${code}: ${MESSAGE_OF[context]} interprets this type`);
        w.bytes(ext.data);
      } else {
        if (codec === undefined)
          throw new EncodeError('ERR_ENCODE_RANGE', `extension ${ext.type} has no encoder in ${MESSAGE_OF[context]}`);
        codec.write(w, ext);
      }
      if (w.pos - mark.at - 2 > 0xffff) throw new EncodeError('ERR_ENCODE_RANGE', `extension ${code} body longer than 65535 bytes`);
      w.endLength(mark);
    }
  });
}

/** The first extension of type `type` in `exts`, typed, or undefined. */
export function findExtension<E extends Extension, T extends E['type']>(exts: readonly E[], type: T): Extract<E, { type: T }> | undefined {
  for (const e of exts) if (e.type === type) return e as Extract<E, { type: T }>;
  return undefined;
}
