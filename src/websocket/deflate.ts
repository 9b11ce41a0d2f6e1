/**
 * permessage-deflate (RFC 7692): parameter negotiation (section 7.1) and
 * the per-message transform (section 7.2), over an injected DEFLATE codec.
 *
 * The codec is an interface ({@link DeflateCodec}) so the protocol code stays
 * portable: the default is `fflate` (pure JavaScript, see ./fflate.ts: it
 * compresses every message on its own, so it declares no context takeover
 * for what it sends); the Node adapter uses one on `node:zlib`
 * (./node/zlib.ts: context takeover and window bits 9-15). This module does
 * what RFC 7692 asks around the codec:
 *
 * - sending (7.2.1): the codec's output for a message ends with the empty
 *   stored block 00 00 ff ff (after a sync flush, or after a final block as
 *   in section 7.2.3.4); check it and remove those 4 bytes;
 * - receiving (7.2.2): append 00 00 ff ff to the message's data and inflate;
 * - context takeover on or off per direction (7.1.1): without it the
 *   compressor / decompressor starts afresh for every message;
 * - a decompressed-size limit enforced while inflating, so a small message
 *   that inflates to gigabytes (a "bomb") fails with 1009 after at most
 *   about 1 MiB more than the limit: the compressed data goes to the codec
 *   in pieces small enough that DEFLATE's largest expansion (258 bytes from
 *   2 bits, ~1032x) cannot overshoot by more.
 */
import { UsageError } from '../combinators/index.js';
import { WebSocketError, type WebSocketErrorCode } from './errors.js';
import type { ExtensionElement, ExtensionParam } from './extensions.js';

// ---------------------------------------------------------------- the codec interface

/** A DEFLATE (RFC 1951, raw: no zlib or gzip wrapper) implementation. */
export interface DeflateCodec {
  /** For logs and reports. */
  readonly name: string;
  /**
   * True when the compressor keeps its LZ77 history from one message to the
   * next (context takeover, RFC 7692 section 7.1.1). When false, negotiation
   * declares no context takeover for the messages this endpoint sends
   * (a server answers server_no_context_takeover, a client offers
   * client_no_context_takeover).
   */
  readonly contextTakeover: boolean;
  /**
   * True when the compressor can limit its LZ77 window to 2^bits bytes
   * (8-15). Negotiation never agrees to a window this codec cannot honour:
   * a server declines such an offer, a client does not offer (or fails on)
   * smaller windows. Any codec must support 15.
   */
  supportsWindowBits(bits: number): boolean;
  createCompressor(options: { readonly windowBits: number; readonly level: number }): Compressor;
  /** The decompressor's window is always large enough (2^15): a smaller peer window only means shorter distances. */
  createDecompressor(): Decompressor;
}

/** A raw-DEFLATE compressor for the messages of one connection. */
export interface Compressor {
  /**
   * Compresses the next part of a message (`fin`: its last part) after
   * everything compressed before. The result belongs to the caller; `data`
   * is not modified or kept. The result continues the DEFLATE data at a byte
   * boundary. A part that is not the last contains no final block; the last
   * part ends with the empty stored block 00 00 ff ff (RFC 7692 section
   * 7.2.1), possibly after a final block (section 7.2.3.4).
   */
  compress(data: Uint8Array, fin: boolean): Uint8Array;
  /** Forgets the history: the next message starts a new DEFLATE stream. */
  reset(): void;
}

/** A streaming raw-DEFLATE decompressor that keeps its window between calls. */
export interface Decompressor {
  /**
   * Inflates `data`, the next part of the stream, calling `onData` with each
   * piece of output (owned by the caller) before returning. Raises any error
   * for invalid data. `data` is not modified or kept.
   */
  decompress(data: Uint8Array, onData: (out: Uint8Array) => void): void;
  /**
   * True after a final block (BFINAL): the stream is over, and the next
   * message needs a fresh decompressor (RFC 7692 section 7.2.3.4).
   */
  readonly ended: boolean;
  /** Forgets the window: the next `decompress` starts a new DEFLATE stream. */
  reset(): void;
}

// ---------------------------------------------------------------- options and agreed parameters

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

export interface PerMessageDeflateOptions {
  /**
   * Client: ask the server not to use context takeover (`server_no_context_takeover`).
   * Server: do not use it (always answer the parameter). Default false.
   */
  readonly serverNoContextTakeover?: boolean;
  /**
   * Client: do not use context takeover (`client_no_context_takeover` in the
   * offer, RFC 7692 section 7.1.1.2). Server: require the client not to use it.
   * Default false.
   */
  readonly clientNoContextTakeover?: boolean;
  /**
   * Client: ask the server to use an LZ77 window of at most 2^bits bytes
   * (`server_max_window_bits`, 8-15). Server: the largest window this server
   * compresses with; below 15 it is announced in the response. Default 15.
   */
  readonly serverMaxWindowBits?: number;
  /**
   * Client: offer `client_max_window_bits` (true: without a value, "I can
   * use a smaller window if told to"; a number: "I will use at most this").
   * Default: offered without a value when the codec can compress with every
   * window size, else not offered. Server: ask a client that offered the
   * parameter to use at most 2^bits bytes. Default: no limit.
   */
  readonly clientMaxWindowBits?: number | boolean;
  /** Messages shorter than this many bytes are sent uncompressed. Default 1024 (as ws). */
  readonly threshold?: number;
  /** Compression level 0-9. Default 6 (zlib's default). */
  readonly level?: number;
  /** The DEFLATE implementation. Default: fflate (see `fflateCodec`). */
  readonly codec?: DeflateCodec;
}

/** The parameters both sides agreed on (RFC 7692 section 7.1). Window sizes are bits, 15 when not limited. */
export interface DeflateParams {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number;
  readonly clientMaxWindowBits: number;
}

const WINDOW_BITS = /^(?:8|9|1[0-5])$/;

function checkBits(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 8 || v > 15) throw new UsageError(`${what} must be an integer in 8..15 (got ${v})`);
  return v;
}

/** Parsed parameters of one permessage-deflate element, or the reason it is invalid. */
interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** true: present without a value. */
  clientMaxWindowBits: number | true | undefined;
}

/**
 * The parameters of a permessage-deflate element, or a string saying why they
 * are invalid (RFC 7692 section 7.1: unknown parameter, repeated parameter,
 * invalid value). `response` applies the response rules (window bits need a value).
 */
function parseParams(params: readonly ExtensionParam[], response: boolean): ParsedParams | string {
  const out: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.name)) return `parameter ${p.name} repeated`;
    seen.add(p.name);
    switch (p.name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        // Sections 7.1.1.1 / 7.1.1.2: "This extension parameter has no value."
        if (p.value !== undefined) return `${p.name} has a value`;
        if (p.name === 'server_no_context_takeover') out.serverNoContextTakeover = true;
        else out.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        // Section 7.1.2.1: the value is required, an integer 8-15 without leading zeros.
        if (p.value === undefined || !WINDOW_BITS.test(p.value)) return `server_max_window_bits=${p.value ?? '(none)'}`;
        out.serverMaxWindowBits = Number(p.value);
        break;
      case 'client_max_window_bits':
        // Section 7.1.2.2: optional in an offer; a response must give a value.
        if (p.value === undefined) {
          if (response) return 'client_max_window_bits without a value in a response';
          out.clientMaxWindowBits = true;
        } else {
          if (!WINDOW_BITS.test(p.value)) return `client_max_window_bits=${p.value}`;
          out.clientMaxWindowBits = Number(p.value);
        }
        break;
      default:
        return `unknown parameter ${p.name}`;
    }
  }
  return out;
}

function codecOf(options: PerMessageDeflateOptions, fallback: () => DeflateCodec): DeflateCodec {
  return options.codec ?? fallback();
}

/** The client's offer (one element). `defaultCodec` supplies the codec when the options give none. */
export function deflateOffer(options: PerMessageDeflateOptions, defaultCodec: () => DeflateCodec): ExtensionElement {
  const codec = codecOf(options, defaultCodec);
  const params: ExtensionParam[] = [];
  if (options.serverNoContextTakeover) params.push({ name: 'server_no_context_takeover', value: undefined });
  if (options.clientNoContextTakeover || !codec.contextTakeover) params.push({ name: 'client_no_context_takeover', value: undefined });
  if (options.serverMaxWindowBits !== undefined) {
    params.push({ name: 'server_max_window_bits', value: String(checkBits('serverMaxWindowBits', options.serverMaxWindowBits)) });
  }
  const cmw = options.clientMaxWindowBits ?? allWindows(codec);
  if (typeof cmw === 'number') {
    if (!codec.supportsWindowBits(checkBits('clientMaxWindowBits', cmw))) {
      throw new UsageError(`clientMaxWindowBits ${cmw}: the ${codec.name} codec cannot compress with that window`);
    }
    params.push({ name: 'client_max_window_bits', value: String(cmw) });
  } else if (cmw) {
    params.push({ name: 'client_max_window_bits', value: undefined });
  }
  return { name: PERMESSAGE_DEFLATE, params };
}

function allWindows(codec: DeflateCodec): boolean {
  for (let b = 8; b <= 15; b++) if (!codec.supportsWindowBits(b)) return false;
  return true;
}

/**
 * Client: checks the server's answer to {@link deflateOffer} (RFC 7692
 * section 7.1) and returns the agreed parameters. Raises
 * ERR_WS_HANDSHAKE_EXTENSIONS for an answer the client must fail on.
 */
export function acceptDeflateResponse(
  options: PerMessageDeflateOptions,
  element: ExtensionElement,
  defaultCodec: () => DeflateCodec,
): DeflateParams {
  const codec = codecOf(options, defaultCodec);
  const code: WebSocketErrorCode = 'ERR_WS_HANDSHAKE_EXTENSIONS';
  const p = parseParams(element.params, true);
  if (typeof p === 'string') throw new WebSocketError(code, p);
  const offer = parseParams(deflateOffer(options, () => codec).params, false) as ParsedParams;
  // 7.1.1.1: a server accepting an offer with server_no_context_takeover MUST include it.
  if (offer.serverNoContextTakeover && !p.serverNoContextTakeover)
    throw new WebSocketError(code, 'server_no_context_takeover was asked for and not answered');
  // 7.1.2.1: the answer to server_max_window_bits=N has a value <= N.
  if (offer.serverMaxWindowBits !== undefined) {
    if (p.serverMaxWindowBits === undefined) throw new WebSocketError(code, 'server_max_window_bits was asked for and not answered');
    if (p.serverMaxWindowBits > offer.serverMaxWindowBits) {
      throw new WebSocketError(code, `server_max_window_bits=${p.serverMaxWindowBits} above the ${offer.serverMaxWindowBits} asked for`);
    }
  }
  let clientBits = typeof offer.clientMaxWindowBits === 'number' ? offer.clientMaxWindowBits : 15;
  if (p.clientMaxWindowBits !== undefined) {
    // 7.1.2.2: a server MUST NOT answer client_max_window_bits to an offer without it.
    if (offer.clientMaxWindowBits === undefined) throw new WebSocketError(code, 'client_max_window_bits answered but not offered');
    const bits = p.clientMaxWindowBits as number;
    if (typeof offer.clientMaxWindowBits === 'number' && bits > offer.clientMaxWindowBits) {
      throw new WebSocketError(code, `client_max_window_bits=${bits} above the ${offer.clientMaxWindowBits} offered`);
    }
    if (!codec.supportsWindowBits(bits))
      throw new WebSocketError(code, `client_max_window_bits=${bits}: the ${codec.name} codec cannot compress with that window`);
    clientBits = bits;
  }
  return {
    serverNoContextTakeover: p.serverNoContextTakeover,
    // 7.1.1.2: having offered client_no_context_takeover, the client does not use context takeover either way.
    clientNoContextTakeover: p.clientNoContextTakeover || offer.clientNoContextTakeover,
    serverMaxWindowBits: p.serverMaxWindowBits ?? 15,
    clientMaxWindowBits: clientBits,
  };
}

/**
 * Server: picks the first acceptable permessage-deflate offer (RFC 7692
 * section 5: offers are in the client's order of preference) and builds the
 * answer. Invalid offers and offers this server cannot honour are declined
 * (section 7.1: "MUST decline"), not treated as errors. Returns null when no
 * offer is acceptable: the connection goes on without compression.
 */
export function negotiateDeflate(
  options: PerMessageDeflateOptions,
  offers: readonly ExtensionElement[],
  defaultCodec: () => DeflateCodec,
): { params: DeflateParams; response: ExtensionElement } | null {
  const codec = codecOf(options, defaultCodec);
  const ourMax = options.serverMaxWindowBits === undefined ? 15 : checkBits('serverMaxWindowBits', options.serverMaxWindowBits);
  const clientLimit =
    typeof options.clientMaxWindowBits === 'number' ? checkBits('clientMaxWindowBits', options.clientMaxWindowBits) : undefined;
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const p = parseParams(offer.params, false);
    if (typeof p === 'string') continue;
    // Our compression window: at most what the client allows and what we allow, and one the codec can do.
    let bits = Math.min(ourMax, p.serverMaxWindowBits ?? 15);
    while (bits >= 8 && !codec.supportsWindowBits(bits)) bits--;
    if (bits < 8) continue;
    const params: ExtensionParam[] = [];
    const serverNoContextTakeover = p.serverNoContextTakeover || (options.serverNoContextTakeover ?? false) || !codec.contextTakeover;
    if (serverNoContextTakeover) params.push({ name: 'server_no_context_takeover', value: undefined });
    // The client's hint (7.1.1.2) is echoed: it does not use context takeover either way.
    const clientNoContextTakeover = p.clientNoContextTakeover || (options.clientNoContextTakeover ?? false);
    if (clientNoContextTakeover) params.push({ name: 'client_no_context_takeover', value: undefined });
    // 7.1.2.1: answer server_max_window_bits when it was asked for, or when we use a smaller window anyway.
    if (p.serverMaxWindowBits !== undefined || bits < 15) params.push({ name: 'server_max_window_bits', value: String(bits) });
    let clientBits = typeof p.clientMaxWindowBits === 'number' ? p.clientMaxWindowBits : 15;
    // 7.1.2.2: only a client that offered client_max_window_bits can be limited.
    if (p.clientMaxWindowBits !== undefined && clientLimit !== undefined) {
      clientBits = Math.min(clientBits, clientLimit);
      params.push({ name: 'client_max_window_bits', value: String(clientBits) });
    }
    return {
      params: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits: bits, clientMaxWindowBits: clientBits },
      response: { name: PERMESSAGE_DEFLATE, params },
    };
  }
  return null;
}

// ---------------------------------------------------------------- the per-message transform

const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);
/** DEFLATE's largest expansion: a 258-byte match coded in 2 bits. */
const MAX_RATIO = 1032;
/** Smallest compressed piece handed to the codec (bounds the overshoot past the limit to ~264 KB). */
const MIN_PIECE = 256;
/** Largest compressed piece (bounds the work per call). */
const MAX_PIECE = 256 * 1024;

/**
 * The runtime side of permessage-deflate for one connection and role:
 * compresses outgoing messages, decompresses incoming ones.
 */
export class PerMessageDeflate {
  readonly params: DeflateParams;
  /** Messages shorter than this are sent uncompressed. */
  readonly threshold: number;
  private readonly codec: DeflateCodec;
  private readonly ourWindowBits: number;
  private readonly ourNoContext: boolean;
  private readonly peerNoContext: boolean;
  private readonly level: number;
  private compressor: Compressor | null = null;
  private decompressor: Decompressor | null = null;
  /** Decompressed bytes of the message being received. */
  private received = 0;

  constructor(params: DeflateParams, role: 'client' | 'server', options: PerMessageDeflateOptions, defaultCodec: () => DeflateCodec) {
    this.params = params;
    this.codec = codecOf(options, defaultCodec);
    this.threshold = options.threshold ?? 1024;
    this.level = options.level ?? 6;
    const server = role === 'server';
    this.ourWindowBits = server ? params.serverMaxWindowBits : params.clientMaxWindowBits;
    this.ourNoContext = server ? params.serverNoContextTakeover : params.clientNoContextTakeover;
    this.peerNoContext = server ? params.clientNoContextTakeover : params.serverNoContextTakeover;
  }

  /**
   * Compresses (part of) a message for sending (RFC 7692 section 7.2.1). For
   * the last part (`fin`) the trailing 00 00 ff ff is removed; earlier parts
   * of a fragmented message keep whatever the codec ends them with.
   */
  compress(data: Uint8Array, fin: boolean): Uint8Array {
    let c = this.compressor;
    if (c === null) c = this.compressor = this.codec.createCompressor({ windowBits: this.ourWindowBits, level: this.level });
    const out = c.compress(data, fin);
    if (fin && (this.ourNoContext || !this.codec.contextTakeover)) c.reset();
    if (!fin) return out;
    const n = out.length;
    if (n < 4 || out[n - 4] !== 0 || out[n - 3] !== 0 || out[n - 2] !== 0xff || out[n - 1] !== 0xff) {
      throw new UsageError(`the ${this.codec.name} codec did not end a message with the empty stored block 00 00 ff ff`);
    }
    return out.subarray(0, n - 4);
  }

  /**
   * Decompresses the next piece of a received compressed message, calling
   * `onData` with the output. Raises ERR_WS_MESSAGE_TOO_BIG as soon as the
   * message's decompressed size passes `limit`, and
   * ERR_WS_DECOMPRESSION_FAILED for invalid data.
   */
  decompress(data: Uint8Array, limit: number, onData: (out: Uint8Array) => void): void {
    let d = this.decompressor;
    if (d === null) d = this.decompressor = this.codec.createDecompressor();
    let at = 0;
    const sink = (out: Uint8Array): void => {
      this.received += out.length;
      if (this.received > limit) throw new WebSocketError('ERR_WS_MESSAGE_TOO_BIG', `decompressed to more than ${limit} bytes`);
      onData(out);
    };
    while (at < data.length) {
      // Small enough pieces that even the densest DEFLATE cannot produce much more than the budget left.
      const budget = Math.max(0, limit - this.received);
      const piece = Math.min(data.length - at, Math.max(MIN_PIECE, Math.min(MAX_PIECE, Math.floor(budget / MAX_RATIO))));
      this.run(d, data.subarray(at, at + piece), sink);
      at += piece;
    }
  }

  /** Ends a received compressed message (appends 00 00 ff ff, RFC 7692 section 7.2.2) and resets per the agreed context takeover. */
  finishMessage(limit: number, onData: (out: Uint8Array) => void): void {
    this.decompress(TAIL, limit, onData);
    this.received = 0;
    // A final block ends the DEFLATE stream: the next message starts a new one (section 7.2.3.4).
    const d = this.decompressor;
    if (d !== null && (this.peerNoContext || d.ended)) d.reset();
  }

  /** Forgets a message cut short (the connection is failing). */
  abortMessage(): void {
    this.received = 0;
  }

  private run(d: Decompressor, data: Uint8Array, sink: (out: Uint8Array) => void): void {
    try {
      d.decompress(data, sink);
    } catch (e) {
      if (e instanceof WebSocketError) throw e;
      throw new WebSocketError('ERR_WS_DECOMPRESSION_FAILED', e instanceof Error ? e.message : String(e));
    }
  }
}
