/**
 * The opening handshake (RFC 6455 section 4): the client's request, the
 * server's validation of it and its answer, and the client's validation of
 * that answer. The HTTP/1.1 heads are parsed and written by
 * src/miniproto/http1.ts; this module only deals with what RFC 6455 adds.
 *
 * Sec-WebSocket-Accept is base64(SHA-1(key + GUID)) (section 4.2.2 item 5.4),
 * SHA-1 from @noble/hashes.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { UsageError } from '../combinators/index.js';
import {
  encodeRequestHead,
  encodeResponseHead,
  headerTokens,
  headerValue,
  headerValues,
  type Header,
  type RequestHead,
  type ResponseHead,
} from '../miniproto/http1.js';
import {
  PERMESSAGE_DEFLATE,
  acceptDeflateResponse,
  deflateOffer,
  negotiateDeflate,
  type DeflateCodec,
  type DeflateParams,
  type PerMessageDeflateOptions,
} from './deflate.js';
import { WebSocketError } from './errors.js';
import { formatExtension, isToken, parseExtensions, parseProtocols, type ExtensionElement } from './extensions.js';

/** The GUID of RFC 6455 section 1.3. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** The only version this implementation speaks (RFC 6455 section 4.1, item 9). */
export const WEBSOCKET_VERSION = '13';

/** n random bytes. Every random byte the WebSocket layer uses (keys, masks) comes from one of these. */
export type RandomSource = (n: number) => Uint8Array;

// ---------------------------------------------------------------- base64 and the accept key

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (RFC 4648 section 4). */
export function base64(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + B64[v & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    s += B64[v >> 18]! + B64[(v >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    s += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + '=';
  }
  return s;
}

/**
 * A Sec-WebSocket-Key is "a base64-encoded value that, when decoded, is 16
 * bytes in length" (section 4.1 item 7): 22 characters and "==", in the
 * canonical form (the last character carries 2 data bits, the others zero).
 */
const KEY = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

export function isValidKey(key: string): boolean {
  return KEY.test(key);
}

/** Sec-WebSocket-Accept for a key (section 4.2.2 item 5.4). */
export function acceptKey(key: string): string {
  const text = key + WEBSOCKET_GUID;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return base64(sha1(bytes));
}

/** A fresh Sec-WebSocket-Key from 16 random bytes (section 4.1 item 7). */
export function generateKey(random: RandomSource): string {
  const r = random(16);
  if (r.length !== 16) throw new UsageError(`the random source returned ${r.length} bytes, 16 were asked for`);
  return base64(r);
}

// ---------------------------------------------------------------- client

export interface ClientHandshakeOptions {
  /** The Host header field: host, and port when not the scheme's default (section 4.1 item 4). */
  readonly host: string;
  /** The request-target: path and query (section 3, "resource name"). Default "/". */
  readonly path?: string;
  /** The Origin header field, for browser-like clients (section 4.1 item 8). */
  readonly origin?: string;
  /** Subprotocols offered, in order of preference (Sec-WebSocket-Protocol). */
  readonly protocols?: readonly string[];
  /** permessage-deflate: true or options to offer it (default false). */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** More header fields for the request (authorization, cookies...). */
  readonly headers?: readonly Header[];
}

/** What the client needs to remember to check the answer. */
export interface ClientHandshake {
  readonly request: Uint8Array;
  readonly key: string;
  readonly protocols: readonly string[];
  readonly deflate: PerMessageDeflateOptions | null;
}

function deflateOptions(v: boolean | PerMessageDeflateOptions | undefined): PerMessageDeflateOptions | null {
  if (v === undefined || v === false) return null;
  return v === true ? {} : v;
}

const RESERVED_REQUEST_FIELDS = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

/** Builds the client's opening request (section 4.1). */
export function buildClientRequest(
  options: ClientHandshakeOptions,
  random: RandomSource,
  defaultCodec: () => DeflateCodec,
): ClientHandshake {
  const key = generateKey(random);
  const protocols = options.protocols ?? [];
  const seen = new Set<string>();
  for (const p of protocols) {
    // Section 4.1 item 10: tokens, each unique.
    if (!isToken(p) || seen.has(p)) throw new UsageError(`subprotocol ${JSON.stringify(p)} is not a token or is repeated`);
    seen.add(p);
  }
  const headers: Header[] = [
    ['Host', options.host],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', WEBSOCKET_VERSION],
  ];
  if (options.origin !== undefined) headers.push(['Origin', options.origin]);
  if (protocols.length > 0) headers.push(['Sec-WebSocket-Protocol', protocols.join(', ')]);
  const deflate = deflateOptions(options.perMessageDeflate);
  if (deflate !== null) headers.push(['Sec-WebSocket-Extensions', formatExtension(deflateOffer(deflate, defaultCodec))]);
  for (const h of options.headers ?? []) {
    if (RESERVED_REQUEST_FIELDS.has(h[0].toLowerCase())) throw new UsageError(`header ${h[0]} is set by the handshake`);
    headers.push(h);
  }
  const request = encodeRequestHead({ method: 'GET', target: options.path ?? '/', headers });
  return { request, key, protocols, deflate };
}

/** The outcome of a successful handshake, on either side. */
export interface HandshakeResult {
  /** The subprotocol selected, if any. */
  readonly protocol: string | undefined;
  /** The agreed permessage-deflate parameters, or null without compression. */
  readonly deflate: DeflateParams | null;
  /** The Sec-WebSocket-Extensions value that was agreed ('' for none). */
  readonly extensions: string;
}

/** Client: checks the server's answer (section 4.1, the client's six checks). Raises a WebSocketError to fail the connection. */
export function checkServerResponse(response: ResponseHead, hs: ClientHandshake, defaultCodec: () => DeflateCodec): HandshakeResult {
  const h = response.headers;
  // Item 1: anything but 101 is handled as HTTP (here: the handshake failed).
  if (response.status !== 101) throw new WebSocketError('ERR_WS_HANDSHAKE_STATUS', `${response.status} ${response.reason}`);
  // Items 2 and 3.
  if ((headerValue(h, 'upgrade') ?? '').toLowerCase() !== 'websocket')
    throw new WebSocketError('ERR_WS_HANDSHAKE_UPGRADE', `Upgrade: ${headerValue(h, 'upgrade') ?? '(none)'}`);
  if (!headerTokens(h, 'connection').includes('upgrade'))
    throw new WebSocketError('ERR_WS_HANDSHAKE_UPGRADE', `Connection: ${headerValue(h, 'connection') ?? '(none)'}`);
  // Item 4.
  const accept = headerValues(h, 'sec-websocket-accept');
  if (accept.length !== 1 || accept[0] !== acceptKey(hs.key))
    throw new WebSocketError('ERR_WS_HANDSHAKE_ACCEPT', `got ${JSON.stringify(accept)}`);
  // Item 5: only extensions the client offered, each once.
  const elements = parseExtensions(headerValues(h, 'sec-websocket-extensions'), 'ERR_WS_HANDSHAKE_EXTENSIONS');
  let deflate: DeflateParams | null = null;
  for (const e of elements) {
    if (e.name !== PERMESSAGE_DEFLATE || hs.deflate === null || deflate !== null) {
      throw new WebSocketError('ERR_WS_HANDSHAKE_EXTENSIONS', `${e.name} was not offered (or was answered twice)`);
    }
    deflate = acceptDeflateResponse(hs.deflate, e, defaultCodec);
  }
  // Item 6: a subprotocol the client asked for, or none.
  const proto = parseProtocols(headerValues(h, 'sec-websocket-protocol'), 'ERR_WS_HANDSHAKE_PROTOCOL');
  if (proto.length > 1 || (proto.length === 1 && !hs.protocols.includes(proto[0]!))) {
    throw new WebSocketError('ERR_WS_HANDSHAKE_PROTOCOL', `${proto.join(', ')} (offered: ${hs.protocols.join(', ') || 'none'})`);
  }
  return { protocol: proto[0], deflate, extensions: elements.map(formatExtension).join(', ') };
}

// ---------------------------------------------------------------- server

/** The application's refusal of a request: the HTTP answer to send. */
export interface Rejection {
  readonly status: number;
  readonly headers?: readonly Header[];
  /** A short body (text). */
  readonly body?: string;
}

export interface ServerHandshakeOptions {
  /**
   * Subprotocols this server speaks, in its order of preference, or a
   * function that picks one of the client's (in the client's order) or
   * returns undefined for none. The pick must be one the client offered.
   */
  readonly protocols?: readonly string[] | ((offered: readonly string[], request: RequestHead) => string | undefined);
  /** permessage-deflate: true or options to accept it when offered (default false). */
  readonly perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Called with a request that passed the protocol checks (after them, so it
   * only sees valid handshakes): return true to accept, or a Rejection (a
   * 401, 403, ...). Origin checks belong here (section 10.2).
   */
  readonly verify?: (request: RequestHead) => true | Rejection;
  /** More header fields for the 101 response. */
  readonly headers?: readonly Header[];
}

/** What the server learned from a valid request. */
export interface ClientRequestInfo {
  readonly key: string;
  readonly protocols: readonly string[];
  readonly extensions: readonly ExtensionElement[];
}

/**
 * Server: the checks of section 4.2.1 on a parsed request. Raises a
 * WebSocketError whose `status` is the HTTP answer (see {@link rejectionResponse}).
 */
export function checkClientRequest(req: RequestHead): ClientRequestInfo {
  const h = req.headers;
  // Item 1: "An HTTP/1.1 or higher GET request".
  if (req.method !== 'GET') throw new WebSocketError('ERR_WS_METHOD', req.method);
  if (req.version === '1.0') throw new WebSocketError('ERR_WS_HTTP_VERSION', `HTTP/${req.version}`);
  // Item 2, and RFC 9112 section 3.2: exactly one Host (else 400).
  if (headerValues(h, 'host').length !== 1) throw new WebSocketError('ERR_WS_HOST', `${headerValues(h, 'host').length} Host fields`);
  // Items 3 and 4.
  if (!headerTokens(h, 'upgrade').includes('websocket'))
    throw new WebSocketError('ERR_WS_UPGRADE', `Upgrade: ${headerValue(h, 'upgrade') ?? '(none)'}`);
  if (!headerTokens(h, 'connection').includes('upgrade'))
    throw new WebSocketError('ERR_WS_UPGRADE', `Connection: ${headerValue(h, 'connection') ?? '(none)'}`);
  // Item 6 and section 4.4: another version gets 426 with the versions we speak.
  const version = headerValues(h, 'sec-websocket-version');
  if (version.length !== 1 || version[0] !== WEBSOCKET_VERSION)
    throw new WebSocketError('ERR_WS_VERSION', `Sec-WebSocket-Version: ${version.join(', ') || '(none)'}`);
  // Item 5.
  const key = headerValues(h, 'sec-websocket-key');
  if (key.length !== 1 || !isValidKey(key[0]!)) throw new WebSocketError('ERR_WS_KEY', `Sec-WebSocket-Key: ${JSON.stringify(key)}`);
  // A body would be taken for frames: a handshake request has none.
  if (req.framing.kind !== 'none') throw new WebSocketError('ERR_WS_REQUEST_BODY', req.framing.kind);
  const extensions = parseExtensions(headerValues(h, 'sec-websocket-extensions'), 'ERR_WS_BAD_EXTENSIONS');
  const protocols = parseProtocols(headerValues(h, 'sec-websocket-protocol'), 'ERR_WS_BAD_PROTOCOLS');
  return { key: key[0]!, protocols, extensions };
}

/** The server's 101 answer and the outcome. */
export interface ServerAcceptance extends HandshakeResult {
  readonly response: Uint8Array;
}

/**
 * Server: answers a request that passed {@link checkClientRequest}: selects
 * the subprotocol, negotiates permessage-deflate, and builds the 101
 * response (section 4.2.2).
 */
export function acceptClientRequest(
  req: RequestHead,
  info: ClientRequestInfo,
  options: ServerHandshakeOptions,
  defaultCodec: () => DeflateCodec,
): ServerAcceptance {
  let protocol: string | undefined;
  const p = options.protocols;
  if (typeof p === 'function') {
    protocol = p(info.protocols, req);
    if (protocol !== undefined && !info.protocols.includes(protocol))
      throw new UsageError(`protocols(): ${protocol} was not offered by the client`);
  } else if (p !== undefined) {
    protocol = p.find((x) => info.protocols.includes(x));
  }
  const headers: Header[] = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', acceptKey(info.key)],
  ];
  if (protocol !== undefined) headers.push(['Sec-WebSocket-Protocol', protocol]);
  let deflate: DeflateParams | null = null;
  let extensions = '';
  const dopts = deflateOptions(options.perMessageDeflate);
  if (dopts !== null) {
    const agreed = negotiateDeflate(dopts, info.extensions, defaultCodec);
    if (agreed !== null) {
      deflate = agreed.params;
      extensions = formatExtension(agreed.response);
      headers.push(['Sec-WebSocket-Extensions', extensions]);
    }
  }
  for (const h of options.headers ?? []) headers.push(h);
  const response = encodeResponseHead({ status: 101, reason: 'Switching Protocols', headers });
  return { response, protocol, deflate, extensions };
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  426: 'Upgrade Required',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/**
 * The HTTP answer to a refused handshake: the status, the header fields
 * section 4.4 and RFC 9110 ask for (426: Sec-WebSocket-Version; 405: Allow),
 * Connection: close, and a short text body.
 */
export function rejectionResponse(rejection: Rejection): Uint8Array {
  const status = rejection.status;
  const reason = REASONS[status] ?? 'Error';
  const body = new TextEncoder().encode(rejection.body ?? `${status} ${reason}\n`);
  const headers: Header[] = [];
  if (status === 426) headers.push(['Sec-WebSocket-Version', WEBSOCKET_VERSION]);
  if (status === 405) headers.push(['Allow', 'GET']);
  headers.push(['Connection', 'close'], ['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(body.length)]);
  for (const h of rejection.headers ?? []) headers.push(h);
  const head = encodeResponseHead({ status, reason, headers });
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}
