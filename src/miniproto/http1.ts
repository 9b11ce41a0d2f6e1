/**
 * HTTP/1.1 message heads (RFC 9112) and bodies, on the combinators and the
 * phase layer: the request line / status line, header fields with limits,
 * message framing (Content-Length, chunked, read-until-close), and the
 * serializers. The WebSocket opening handshake (RFC 6455 section 4) uses it.
 *
 * Strictness: line ends are CR LF only (RFC 9112 section 2.2 allows, but does
 * not require, accepting a bare LF; a bare CR is invalid), the request line
 * has single spaces (section 3), obs-fold is rejected (section 5.2), no
 * whitespace before a field's colon (section 5.1), field values carry no
 * control characters but HTAB (RFC 9110 section 5.5).
 */
import {
  EncodeError,
  INCOMPLETE,
  ParseError,
  Parser,
  Writer,
  bytes,
  line,
  rest,
  until,
  type Incomplete,
  type ParseGen,
  type Source,
} from '../combinators/index.js';
import { ProtocolError } from './errors.js';
import { phase, type Phase, type PhaseGen } from './session.js';
import { crlf } from './text.js';

// ---------------------------------------------------------------- errors

/**
 * Every HTTP/1.1 error code, with the status a server should answer a
 * request that caused it. Errors found in a *response* carry 502 (what a
 * gateway would answer); a client just drops the connection.
 */
export const HTTP_ERROR_CODES = {
  ERR_HTTP_HEAD_TOO_LARGE: { status: 431, meaning: 'the message head is longer than maxHeadSize' },
  ERR_HTTP_TOO_MANY_HEADERS: { status: 431, meaning: 'more header (or trailer) fields than maxHeaders' },
  ERR_HTTP_BAD_REQUEST_LINE: { status: 400, meaning: 'the request line is not method SP request-target SP HTTP-version' },
  ERR_HTTP_BAD_STATUS_LINE: { status: 502, meaning: 'the status line is not HTTP-version SP 3DIGIT SP reason-phrase' },
  ERR_HTTP_BAD_VERSION: { status: 505, meaning: 'the HTTP version is not 1.x' },
  ERR_HTTP_BAD_LINE_END: { status: 400, meaning: 'a bare CR or LF in the head (lines end with CR LF)' },
  ERR_HTTP_BAD_HEADER: { status: 400, meaning: 'a field line is not token ":" OWS field-value OWS' },
  ERR_HTTP_OBS_FOLD: { status: 400, meaning: 'a field line starts with whitespace (obsolete line folding)' },
  ERR_HTTP_BAD_CONTENT_LENGTH: { status: 400, meaning: 'Content-Length is not one decimal number (or its values differ)' },
  ERR_HTTP_TE_AND_CL: { status: 400, meaning: 'both Transfer-Encoding and Content-Length (RFC 9112 section 6.3)' },
  ERR_HTTP_BAD_TRANSFER_ENCODING: { status: 400, meaning: 'chunked is not the final coding, is repeated, or appears in HTTP/1.0' },
  ERR_HTTP_UNSUPPORTED_TRANSFER_CODING: { status: 501, meaning: 'a transfer coding other than chunked' },
  ERR_HTTP_BAD_CHUNK: { status: 400, meaning: 'a chunk-size line or chunk terminator is malformed' },
  ERR_HTTP_BODY_TOO_LARGE: { status: 413, meaning: 'the body is longer than maxBodySize' },
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;

/** A malformed or over-limit HTTP/1.1 message. `status` is what a server should answer before closing. */
export class HttpError extends ProtocolError {
  declare readonly code: HttpErrorCode;
  readonly status: number;
  constructor(code: HttpErrorCode, detail: string, offset = -1, status?: number) {
    super(code, `${HTTP_ERROR_CODES[code].meaning}: ${detail}${offset >= 0 ? ` (at offset ${offset})` : ''}`, offset);
    this.status = status ?? HTTP_ERROR_CODES[code].status;
  }
}

// ---------------------------------------------------------------- types

/** A header field: name in lower case (names are case-insensitive, RFC 9110 section 5.1), value with OWS trimmed. */
export type Header = readonly [name: string, value: string];

/** How the body of a message is delimited (RFC 9112 section 6.3). */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  /** A response read until the server closes the connection. */
  | { readonly kind: 'until-close' };

export interface RequestHead {
  readonly method: string;
  /** The request-target as sent (origin-, absolute-, authority- or asterisk-form, RFC 9112 section 3.2). */
  readonly target: string;
  /** "1.1", "1.0" ... */
  readonly version: string;
  /** In the order received; names lower-cased. */
  readonly headers: readonly Header[];
  /** The body framing, validated (RFC 9112 section 6.3). */
  readonly framing: BodyFraming;
}

export interface ResponseHead {
  readonly version: string;
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly Header[];
}

export interface HeadOptions {
  /**
   * Longest head, start line and final blank line included. Default 16 KiB,
   * as h11 (nginx's default large_client_header_buffers is 4 x 8 KiB;
   * Node's --max-http-header-size is 16 KiB). Past it: 431.
   */
  readonly maxHeadSize?: number;
  /**
   * Most header fields. Default 100 (Apache's LimitRequestFields; Node
   * accepts 2000, but 100 bounds per-field work for a 16 KiB head). Past it: 431.
   */
  readonly maxHeaders?: number;
}

const DEFAULT_MAX_HEAD = 16 * 1024;
const DEFAULT_MAX_HEADERS = 100;

// ---------------------------------------------------------------- character classes

/** tchar (RFC 9110 section 5.6.2). */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;
/** field-vchar / SP / HTAB: VCHAR, obs-text, SP, HTAB (RFC 9110 section 5.5). */
const FIELD_CHAR = new Uint8Array(256);
for (let c = 0x20; c < 0x100; c++) FIELD_CHAR[c] = c === 0x7f ? 0 : 1;
FIELD_CHAR[0x09] = 1;

const isToken = (b: Uint8Array, start: number, end: number): boolean => {
  if (start >= end) return false;
  for (let i = start; i < end; i++) if (TCHAR[b[i]!] === 0) return false;
  return true;
};

/** Bytes as a string, one char per byte (obs-text survives as U+0080..U+00FF). */
function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i += 4096) s += String.fromCharCode(...b.subarray(i, Math.min(end, i + 4096)));
  return s;
}

// ---------------------------------------------------------------- head parsing

type Role = 'request' | 'response';

/** Splits a head (without its final CRLF CRLF) into lines, rejecting bare CR / LF. */
function splitLines(head: Uint8Array, at: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head[i]!;
    if (c === 0x0d) {
      if (head[i + 1] !== 0x0a) throw new HttpError('ERR_HTTP_BAD_LINE_END', 'bare CR', at + i);
      out.push([start, i]);
      start = i + 2;
      i++;
    } else if (c === 0x0a) {
      throw new HttpError('ERR_HTTP_BAD_LINE_END', 'bare LF', at + i);
    }
  }
  out.push([start, head.length]);
  return out;
}

/** HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3), case-sensitive. Returns "1.1" etc. */
function parseVersion(b: Uint8Array, start: number, end: number, at: number, role: Role): string {
  const ok =
    end - start === 8 &&
    b[start] === 0x48 &&
    b[start + 1] === 0x54 &&
    b[start + 2] === 0x54 &&
    b[start + 3] === 0x50 &&
    b[start + 4] === 0x2f &&
    isDigit(b[start + 5]!) &&
    b[start + 6] === 0x2e &&
    isDigit(b[start + 7]!);
  if (!ok) {
    throw role === 'request'
      ? new HttpError('ERR_HTTP_BAD_REQUEST_LINE', 'bad HTTP-version', at + start)
      : new HttpError('ERR_HTTP_BAD_STATUS_LINE', 'bad HTTP-version', at + start);
  }
  if (b[start + 5] !== 0x31) {
    throw new HttpError('ERR_HTTP_BAD_VERSION', `HTTP/${String.fromCharCode(b[start + 5]!)}.x`, at + start, role === 'request' ? 505 : 502);
  }
  return `1.${String.fromCharCode(b[start + 7]!)}`;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** field-line = field-name ":" OWS field-value OWS (RFC 9112 section 5). */
function parseField(b: Uint8Array, start: number, end: number, at: number, status: number | undefined): Header {
  const first = b[start]!;
  if (first === 0x20 || first === 0x09) {
    // RFC 9112 section 5.2: obs-fold is deprecated; a server may reject it with 400.
    throw new HttpError('ERR_HTTP_OBS_FOLD', 'field line starts with whitespace', at + start, status);
  }
  let colon = start;
  while (colon < end && b[colon] !== 0x3a) colon++;
  if (colon === end) throw new HttpError('ERR_HTTP_BAD_HEADER', 'no colon in field line', at + start, status);
  if (!isToken(b, start, colon)) {
    // RFC 9112 section 5.1: "No whitespace is allowed between the field name and colon" (MUST reject with 400).
    throw new HttpError('ERR_HTTP_BAD_HEADER', 'field name is not a token', at + start, status);
  }
  let vs = colon + 1;
  let ve = end;
  while (vs < ve && (b[vs] === 0x20 || b[vs] === 0x09)) vs++;
  while (ve > vs && (b[ve - 1] === 0x20 || b[ve - 1] === 0x09)) ve--;
  for (let i = vs; i < ve; i++) {
    // RFC 9110 section 5.5: CR, LF and NUL are invalid and dangerous; other CTLs are not field-vchar.
    if (FIELD_CHAR[b[i]!] === 0)
      throw new HttpError('ERR_HTTP_BAD_HEADER', `control character 0x${b[i]!.toString(16)} in field value`, at + i, status);
  }
  return [latin1(b, start, colon).toLowerCase(), latin1(b, vs, ve)];
}

function parseFields(
  b: Uint8Array,
  lines: [number, number][],
  from: number,
  at: number,
  maxHeaders: number,
  status: number | undefined,
): Header[] {
  if (lines.length - from > maxHeaders) {
    throw new HttpError('ERR_HTTP_TOO_MANY_HEADERS', `${lines.length - from} fields, at most ${maxHeaders}`, at, status);
  }
  const headers: Header[] = [];
  for (let k = from; k < lines.length; k++) {
    const [s, e] = lines[k]!;
    headers.push(parseField(b, s, e, at, status));
  }
  return headers;
}

/** request-line = method SP request-target SP HTTP-version (RFC 9112 section 3). */
function parseRequestLine(b: Uint8Array, start: number, end: number, at: number): { method: string; target: string; version: string } {
  const sp1 = b.indexOf(0x20, start);
  if (sp1 === -1 || sp1 >= end) throw new HttpError('ERR_HTTP_BAD_REQUEST_LINE', 'no SP after method', at + start);
  const sp2 = b.indexOf(0x20, sp1 + 1);
  if (sp2 === -1 || sp2 >= end) throw new HttpError('ERR_HTTP_BAD_REQUEST_LINE', 'no SP after request-target', at + sp1);
  if (!isToken(b, start, sp1)) throw new HttpError('ERR_HTTP_BAD_REQUEST_LINE', 'method is not a token', at + start);
  if (sp2 === sp1 + 1) throw new HttpError('ERR_HTTP_BAD_REQUEST_LINE', 'empty request-target', at + sp1);
  for (let i = sp1 + 1; i < sp2; i++) {
    const c = b[i]!;
    // The target forms of RFC 9112 section 3.2 are all visible US-ASCII (URI syntax, RFC 3986).
    if (c <= 0x20 || c >= 0x7f) throw new HttpError('ERR_HTTP_BAD_REQUEST_LINE', 'invalid character in request-target', at + i);
  }
  const version = parseVersion(b, sp2 + 1, end, at, 'request');
  return { method: latin1(b, start, sp1), target: latin1(b, sp1 + 1, sp2), version };
}

/** status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4). */
function parseStatusLine(b: Uint8Array, start: number, end: number, at: number): { version: string; status: number; reason: string } {
  const version = parseVersion(b, start, Math.min(end, start + 8), at, 'response');
  const s = start + 9;
  if (b[start + 8] !== 0x20 || end < s + 3 || !isDigit(b[s]!) || !isDigit(b[s + 1]!) || !isDigit(b[s + 2]!) || b[s] === 0x30) {
    throw new HttpError('ERR_HTTP_BAD_STATUS_LINE', 'bad status-code', at + start + 8);
  }
  const status = (b[s]! - 0x30) * 100 + (b[s + 1]! - 0x30) * 10 + (b[s + 2]! - 0x30);
  let reason = '';
  if (end > s + 3) {
    // A missing SP before an empty reason is tolerated (RFC 9112 section 4: clients SHOULD ignore the reason).
    if (b[s + 3] !== 0x20) throw new HttpError('ERR_HTTP_BAD_STATUS_LINE', 'no SP after status-code', at + s + 3);
    for (let i = s + 4; i < end; i++) {
      if (FIELD_CHAR[b[i]!] === 0) throw new HttpError('ERR_HTTP_BAD_STATUS_LINE', 'control character in reason-phrase', at + i);
    }
    reason = latin1(b, s + 4, end);
  }
  return { version, status, reason };
}

/**
 * The head parser: waits for the blank line that ends the head (bounded by
 * maxHeadSize), then parses the head in one go. The bytes after the blank
 * line (a body, or the next protocol) are not touched.
 */
class HeadParser<T> extends Parser<T> {
  private readonly headEnd: Parser<Uint8Array>;
  private readonly maxHead: number;
  private readonly maxHeaders: number;
  constructor(
    private readonly role: Role,
    options: HeadOptions,
  ) {
    super(role === 'request' ? 'HTTP/1.1 request head' : 'HTTP/1.1 response head');
    this.maxHead = options.maxHeadSize ?? DEFAULT_MAX_HEAD;
    this.maxHeaders = options.maxHeaders ?? DEFAULT_MAX_HEADERS;
    this.headEnd = until('\r\n\r\n', { max: Math.max(0, this.maxHead - 4), name: this.name });
  }

  readFast(s: Source): T | Incomplete {
    const m = s.mark();
    try {
      let skipped = 0;
      if (this.role === 'request') {
        // RFC 9112 section 2.2: a server SHOULD ignore at least one empty line before the request-line.
        while (s.byteAt(0) === 0x0d && s.byteAt(1) === 0x0a && skipped < this.maxHead) {
          s.skipBytes(2, 'CRLF');
          skipped += 2;
        }
      }
      const at = s.position;
      const head = this.headEnd.readFast(s);
      if (head === INCOMPLETE) {
        s.reset(m);
        return INCOMPLETE;
      }
      const v = this.parseHead(head, at);
      s.commit();
      return v;
    } catch (e) {
      s.reset(m);
      if (e instanceof ParseError && e.code === 'ERR_TOO_LONG') {
        throw new HttpError(
          'ERR_HTTP_HEAD_TOO_LARGE',
          `no blank line within ${this.maxHead} bytes`,
          e.offset,
          this.role === 'request' ? 431 : 502,
        );
      }
      throw e;
    }
  }

  private parseHead(head: Uint8Array, at: number): T {
    const lines = splitLines(head, at);
    const [s0, e0] = lines[0]!;
    if (this.role === 'request') {
      const rl = parseRequestLine(head, s0, e0, at);
      const headers = parseFields(head, lines, 1, at, this.maxHeaders, undefined);
      const framing = requestFraming(rl.version, headers);
      return { ...rl, headers, framing } satisfies RequestHead as T;
    }
    const sl = parseStatusLine(head, s0, e0, at);
    const headers = parseFields(head, lines, 1, at, this.maxHeaders, 502);
    return { ...sl, headers } satisfies ResponseHead as T;
  }

  override write(w: Writer, value: T): void {
    if (this.role === 'request') writeRequestHead(w, value as RequestHead);
    else writeResponseHead(w, value as ResponseHead);
  }
}

/** Parser of a request head (server side). Its `framing` says how the body is delimited. */
export function parseRequestHead(options: HeadOptions = {}): Parser<RequestHead> {
  return new HeadParser<RequestHead>('request', options);
}

/** Parser of a response head (client side). Use {@link responseFraming} with the request's method for its body. */
export function parseResponseHead(options: HeadOptions = {}): Parser<ResponseHead> {
  return new HeadParser<ResponseHead>('response', options);
}

// ---------------------------------------------------------------- headers and framing

/** Values of every field named `name` (case-insensitive), in order. */
export function headerValues(headers: readonly Header[], name: string): string[] {
  const n = name.toLowerCase();
  const out: string[] = [];
  for (const [k, v] of headers) if (k === n) out.push(v);
  return out;
}

/** The field's values joined with ", " (RFC 9110 section 5.3), or undefined when absent. */
export function headerValue(headers: readonly Header[], name: string): string | undefined {
  const vs = headerValues(headers, name);
  return vs.length === 0 ? undefined : vs.join(', ');
}

/** The comma-separated list elements of every `name` field, trimmed and lower-cased, empty ones skipped (RFC 9110 section 5.6.1). */
export function headerTokens(headers: readonly Header[], name: string): string[] {
  const out: string[] = [];
  for (const v of headerValues(headers, name)) {
    for (const part of v.split(',')) {
      const t = part.trim().toLowerCase();
      if (t !== '') out.push(t);
    }
  }
  return out;
}

/** Content-Length: one decimal number; a list of identical values is accepted (RFC 9110 section 8.6). */
function contentLength(headers: readonly Header[], status: number | undefined): number | undefined {
  const values = headerValues(headers, 'content-length');
  if (values.length === 0) return undefined;
  let n: number | undefined;
  for (const v of values) {
    for (const part of v.split(',')) {
      const t = part.trim();
      if (!/^[0-9]{1,15}$/.test(t)) throw new HttpError('ERR_HTTP_BAD_CONTENT_LENGTH', JSON.stringify(v), -1, status);
      const x = Number(t);
      if (n !== undefined && x !== n) throw new HttpError('ERR_HTTP_BAD_CONTENT_LENGTH', `conflicting values ${n} and ${x}`, -1, status);
      n = x;
    }
  }
  return n;
}

/** Transfer-Encoding → chunked or an error (we decode no other coding). */
function transferEncoding(version: string, headers: readonly Header[], role: Role): 'chunked' | undefined {
  const codings = headerTokens(headers, 'transfer-encoding').map((c) => c.split(';')[0]!.trim());
  if (headerValues(headers, 'transfer-encoding').length === 0) return undefined;
  const status = role === 'request' ? undefined : 502;
  if (version === '1.0') {
    // RFC 9112 section 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
    throw new HttpError('ERR_HTTP_BAD_TRANSFER_ENCODING', 'Transfer-Encoding in an HTTP/1.0 message', -1, status);
  }
  const chunkedAt = codings.indexOf('chunked');
  if (chunkedAt !== -1 && (chunkedAt !== codings.length - 1 || codings.lastIndexOf('chunked') !== chunkedAt)) {
    // RFC 9112 section 6.3 (request: chunked not final → 400) and section 7 (chunked at most once).
    throw new HttpError('ERR_HTTP_BAD_TRANSFER_ENCODING', `codings ${codings.join(', ')}`, -1, status);
  }
  if (codings.length !== 1 || chunkedAt !== 0) {
    // RFC 9112 section 6.1: a server SHOULD answer 501 to a transfer coding it does not understand.
    throw new HttpError('ERR_HTTP_UNSUPPORTED_TRANSFER_CODING', `codings ${codings.join(', ') || '(empty)'}`, -1, status);
  }
  return 'chunked';
}

function requestFraming(version: string, headers: readonly Header[]): BodyFraming {
  const te = transferEncoding(version, headers, 'request');
  const cl = contentLength(headers, undefined);
  if (te !== undefined && cl !== undefined) {
    // RFC 9112 section 6.3: both present may be request smuggling; we reject (a server MAY).
    throw new HttpError('ERR_HTTP_TE_AND_CL', 'Transfer-Encoding and Content-Length both present');
  }
  if (te === 'chunked') return CHUNKED;
  if (cl !== undefined) return cl === 0 ? NONE : { kind: 'length', length: cl };
  // RFC 9112 section 6.3 item 7: a request with neither has no body.
  return NONE;
}

const NONE: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };
const UNTIL_CLOSE: BodyFraming = { kind: 'until-close' };

/**
 * How a response's body is delimited (RFC 9112 section 6.3), given the
 * method of the request it answers: none for HEAD, 1xx, 204, 304 and a 2xx
 * to CONNECT (the connection becomes a tunnel); else chunked, a length, or
 * until the server closes. Raises HttpError (status 502) for invalid framing.
 */
export function responseFraming(head: ResponseHead, requestMethod: string): BodyFraming {
  const s = head.status;
  if (requestMethod === 'HEAD' || (s >= 100 && s < 200) || s === 204 || s === 304) return NONE;
  if (requestMethod === 'CONNECT' && s >= 200 && s < 300) return NONE;
  const te = transferEncoding(head.version, head.headers, 'response');
  const cl = contentLength(head.headers, 502);
  if (te !== undefined && cl !== undefined)
    throw new HttpError('ERR_HTTP_TE_AND_CL', 'Transfer-Encoding and Content-Length both present', -1, 502);
  if (te === 'chunked') return CHUNKED;
  if (cl !== undefined) return cl === 0 ? NONE : { kind: 'length', length: cl };
  return UNTIL_CLOSE;
}

// ---------------------------------------------------------------- serializers

const enc = new TextEncoder();

function checkToken(what: string, v: string): void {
  if (v.length === 0) throw new EncodeError('ERR_ENCODE_RANGE', `${what} is empty`);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) throw new EncodeError('ERR_ENCODE_RANGE', `${what} ${JSON.stringify(v)} is not a token`);
  }
}

function writeLatin1(w: Writer, v: string): void {
  const b = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) b[i] = v.charCodeAt(i);
  w.bytes(b);
}

function writeFields(w: Writer, headers: readonly Header[]): void {
  for (const [name, value] of headers) {
    checkToken('field name', name);
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c > 0xff || FIELD_CHAR[c] === 0)
        throw new EncodeError('ERR_ENCODE_RANGE', `field ${name}: invalid character U+${c.toString(16)}`);
    }
    const last = value.charCodeAt(value.length - 1);
    if (value.length > 0 && (value.charCodeAt(0) <= 0x20 || last <= 0x20)) {
      throw new EncodeError('ERR_ENCODE_RANGE', `field ${name}: leading or trailing whitespace`);
    }
    writeLatin1(w, name);
    w.bytes(COLON_SP);
    writeLatin1(w, value);
    w.bytes(CRLF);
  }
}

const CRLF = enc.encode('\r\n');
const COLON_SP = enc.encode(': ');

function checkVersion(v: string): void {
  if (!/^1\.[0-9]$/.test(v)) throw new EncodeError('ERR_ENCODE_RANGE', `HTTP version ${JSON.stringify(v)}`);
}

/** Writes `method SP target SP HTTP/version CRLF fields CRLF`. Raises ERR_ENCODE_RANGE for anything the parser would reject. */
export function writeRequestHead(w: Writer, head: Omit<RequestHead, 'framing' | 'version'> & { readonly version?: string }): void {
  const version = head.version ?? '1.1';
  checkToken('method', head.method);
  checkVersion(version);
  if (head.target.length === 0 || /[^\x21-\x7e]/.test(head.target))
    throw new EncodeError('ERR_ENCODE_RANGE', `request-target ${JSON.stringify(head.target)}`);
  writeLatin1(w, `${head.method} ${head.target} HTTP/${version}\r\n`);
  writeFields(w, head.headers);
  w.bytes(CRLF);
}

/** Writes `HTTP/version SP status SP reason CRLF fields CRLF`. */
export function writeResponseHead(w: Writer, head: Omit<ResponseHead, 'version'> & { readonly version?: string }): void {
  const version = head.version ?? '1.1';
  checkVersion(version);
  if (!Number.isInteger(head.status) || head.status < 100 || head.status > 999)
    throw new EncodeError('ERR_ENCODE_RANGE', `status ${head.status}`);
  for (let i = 0; i < head.reason.length; i++) {
    const c = head.reason.charCodeAt(i);
    if (c > 0xff || FIELD_CHAR[c] === 0) throw new EncodeError('ERR_ENCODE_RANGE', 'invalid character in reason-phrase');
  }
  writeLatin1(w, `HTTP/${version} ${head.status} ${head.reason}\r\n`);
  writeFields(w, head.headers);
  w.bytes(CRLF);
}

/** A request head as bytes. */
export function encodeRequestHead(head: Omit<RequestHead, 'framing' | 'version'> & { readonly version?: string }): Uint8Array {
  const w = new Writer({ initialSize: 512 });
  writeRequestHead(w, head);
  return w.toBytes();
}

/** A response head as bytes. */
export function encodeResponseHead(head: Omit<ResponseHead, 'version'> & { readonly version?: string }): Uint8Array {
  const w = new Writer({ initialSize: 512 });
  writeResponseHead(w, head);
  return w.toBytes();
}

/** One chunk of a chunked body: hex size CRLF data CRLF (RFC 9112 section 7.1). An empty `data` writes nothing (it would be the last chunk). */
export function encodeChunk(data: Uint8Array): Uint8Array {
  if (data.length === 0) return new Uint8Array(0);
  const size = enc.encode(`${data.length.toString(16)}\r\n`);
  const out = new Uint8Array(size.length + data.length + 2);
  out.set(size, 0);
  out.set(data, size.length);
  out.set(CRLF, size.length + data.length);
  return out;
}

/** The last chunk, optional trailer fields and the final CRLF (RFC 9112 section 7.1). */
export function encodeLastChunk(trailers: readonly Header[] = []): Uint8Array {
  const w = new Writer({ initialSize: 64 });
  w.bytes(enc.encode('0\r\n'));
  writeFields(w, trailers);
  w.bytes(CRLF);
  return w.toBytes();
}

// ---------------------------------------------------------------- bodies

export interface BodyOptions {
  /** Largest body accepted (413 past it). Default 16 MiB for the buffered reader; no limit (Infinity) for the streaming phase. */
  readonly maxBodySize?: number;
  /** Longest chunk-size line, extensions included. Default 4 KiB. */
  readonly maxChunkLine?: number;
  /** Limits of the trailer section (same defaults as the head). */
  readonly trailers?: HeadOptions;
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
const DEFAULT_MAX_CHUNK_LINE = 4 * 1024;
/** 13 hex digits = 2^52: every chunk size stays an exact number. */
const MAX_CHUNK_HEX = 13;

/**
 * chunk-size [ chunk-ext ] CRLF (RFC 9112 section 7.1). Extensions are
 * checked for control characters and skipped (section 7.1.1: a recipient
 * MUST ignore unrecognized extensions).
 */
function chunkSizeOf(l: Uint8Array, at: number): number {
  let i = 0;
  let size = 0;
  let digits = 0;
  for (; i < l.length; i++) {
    const c = l[i]!;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) break;
    if (size !== 0 || d !== 0) digits++;
    if (digits > MAX_CHUNK_HEX) throw new HttpError('ERR_HTTP_BAD_CHUNK', `chunk-size longer than ${MAX_CHUNK_HEX} hex digits`, at);
    size = size * 16 + d;
  }
  if (i === 0) throw new HttpError('ERR_HTTP_BAD_CHUNK', 'no chunk-size', at);
  let j = i;
  while (j < l.length && (l[j] === 0x20 || l[j] === 0x09)) j++; // BWS
  if (j < l.length && l[j] !== 0x3b) throw new HttpError('ERR_HTTP_BAD_CHUNK', 'junk after chunk-size', at + j);
  for (; j < l.length; j++)
    if (FIELD_CHAR[l[j]!] === 0) throw new HttpError('ERR_HTTP_BAD_CHUNK', 'control character in chunk extension', at + j);
  return size;
}

function chunkLineParser(options: BodyOptions): Parser<Uint8Array> {
  return line({ max: options.maxChunkLine ?? DEFAULT_MAX_CHUNK_LINE, name: 'chunk-size line' });
}

/** Reads with an atomic parser's fast path, suspending while short (no active-Source machinery needed). */
function* need<T>(p: Parser<T>, s: Source): ParseGen<T> {
  for (;;) {
    const v = p.readFast(s);
    if (v !== INCOMPLETE) return v;
    yield s.needed;
  }
}

/** A resumable parser whose body gets the Source (for error offsets). */
class SourceGen<T> extends Parser<T> {
  constructor(
    name: string,
    private readonly body: (s: Source) => ParseGen<T>,
  ) {
    super(name, -1, true);
  }
  readFast(s: Source): T | Incomplete {
    const m = s.mark();
    let r: IteratorResult<number, T>;
    try {
      r = this.body(s).next();
    } catch (e) {
      s.reset(m);
      throw e;
    }
    if (r.done) {
      s.commit();
      return r.value;
    }
    s.reset(m);
    s.needed = r.value;
    return INCOMPLETE;
  }
  override readSlow(s: Source): Iterator<number, T, undefined> {
    return this.body(s);
  }
}

/** trailer-section = *( field-line CRLF ) CRLF: parsed line by line with the head's limits. */
function* readTrailers(fieldLine: Parser<Uint8Array>, s: Source, options: HeadOptions): ParseGen<Header[]> {
  const trailers: Header[] = [];
  const maxHeaders = options.maxHeaders ?? DEFAULT_MAX_HEADERS;
  const maxSize = options.maxHeadSize ?? DEFAULT_MAX_HEAD;
  let size = 0;
  for (;;) {
    const at = s.position;
    const l = yield* need(fieldLine, s);
    size += l.length + 2;
    if (size > maxSize) throw new HttpError('ERR_HTTP_HEAD_TOO_LARGE', `trailer section over ${maxSize} bytes`, at);
    if (l.length === 0) return trailers;
    if (trailers.length === maxHeaders) throw new HttpError('ERR_HTTP_TOO_MANY_HEADERS', `more than ${maxHeaders} trailer fields`, at);
    splitLines(l, at);
    trailers.push(parseField(l, 0, l.length, at, undefined));
  }
}

/** CRLF after chunk-data (RFC 9112 section 7.1), as an HTTP error. */
function* chunkEnd(s: Source): ParseGen<void> {
  try {
    yield* need(crlf, s);
  } catch (e) {
    if (e instanceof ParseError && e.code === 'ERR_MALFORMED')
      throw new HttpError('ERR_HTTP_BAD_CHUNK', 'chunk-data not followed by CRLF', e.offset);
    throw e;
  }
}

const EMPTY_BODY = bytes(0);

/** A whole body, buffered, and its trailer fields (chunked only). */
export interface HttpBody {
  readonly data: Uint8Array;
  readonly trailers: readonly Header[];
}

/**
 * A parser of one whole body with the given framing (buffered: for small
 * bodies, e.g. an error page or a handshake's answer). 'until-close'
 * completes when the input ends. Chunked bodies are joined into one array.
 */
export function readBody(framing: BodyFraming, options: BodyOptions = {}): Parser<HttpBody> {
  const max = options.maxBodySize ?? DEFAULT_MAX_BODY;
  const tooLarge = (n: number, at = -1): HttpError => new HttpError('ERR_HTTP_BODY_TOO_LARGE', `${n} bytes, at most ${max}`, at);
  switch (framing.kind) {
    case 'none':
      return new SourceGen('HTTP body (none)', function* (s) {
        // Reads nothing: the body is empty.
        yield* need(EMPTY_BODY, s);
        return { data: new Uint8Array(0), trailers: [] };
      });
    case 'length': {
      const n = framing.length;
      return new SourceGen('HTTP body', function* (s) {
        if (n > max) throw tooLarge(n, s.position);
        const data = yield* need(bytes(n), s);
        return { data, trailers: [] };
      });
    }
    case 'until-close':
      return rest.map((data) => {
        if (data.length > max) throw tooLarge(data.length);
        return { data, trailers: [] };
      });
    case 'chunked': {
      const sizeLine = chunkLineParser(options);
      const trailerOptions = options.trailers ?? {};
      const fieldLine = line({ max: trailerOptions.maxHeadSize ?? DEFAULT_MAX_HEAD, name: 'trailer field line' });
      return new SourceGen('HTTP chunked body', function* (s) {
        const parts: Uint8Array[] = [];
        let total = 0;
        for (;;) {
          const at = s.position;
          const size = chunkSizeOf(yield* need(sizeLine, s), at);
          if (size === 0) break;
          total += size;
          if (total > max) throw tooLarge(total, at);
          // Views of the received chunks (no copy until the parts are joined).
          parts.push(yield* need(bytes(size), s));
          yield* chunkEnd(s);
        }
        const trailers = yield* readTrailers(fieldLine, s, trailerOptions);
        if (parts.length === 1) return { data: parts[0]!, trailers };
        const data = new Uint8Array(total);
        let o = 0;
        for (const p of parts) {
          data.set(p, o);
          o += p.length;
        }
        return { data, trailers };
      });
    }
    default: {
      const never: never = framing;
      throw new EncodeError('ERR_ENCODE_RANGE', `unknown framing ${String(never)}`);
    }
  }
}

/** Events of the streaming body phase. */
export type BodyEvent =
  /** A piece of the body: a zero-copy view when it lies in one received chunk. Pieces never span message boundaries. */
  | { readonly type: 'body'; readonly data: Uint8Array }
  /** The body is complete; trailer fields (chunked only). */
  | { readonly type: 'body-end'; readonly trailers: readonly Header[] };

/**
 * A phase that streams a body as `body` events (pieces as they arrive,
 * never more than what is buffered, so large bodies need no large buffer),
 * then a `body-end` event, then switches to `next` (the next message's head
 * phase on a keep-alive connection, or null).
 */
export function bodyPhase<E>(framing: BodyFraming, next: Phase<E | BodyEvent> | null, options: BodyOptions = {}): Phase<E | BodyEvent> {
  const max = options.maxBodySize ?? Infinity;
  const sizeLine = chunkLineParser(options);
  const trailerOptions = options.trailers ?? {};
  const fieldLine = line({ max: trailerOptions.maxHeadSize ?? DEFAULT_MAX_HEAD, name: 'trailer field line' });
  const trailerParser = new SourceGen('trailer section', (s) => readTrailers(fieldLine, s, trailerOptions));
  const chunkEndParser = new SourceGen('CRLF after chunk-data', chunkEnd);
  return phase<E | BodyEvent>(`HTTP body (${framing.kind})`, function* (io): PhaseGen<E | BodyEvent> {
    const src = io.source;
    let total = 0;
    /** Streams `n` bytes as body events. */
    const pieces = function* (n: number, untilEnd: boolean): PhaseGen<E | BodyEvent> {
      let left = n;
      while (left > 0) {
        if (src.buffered === 0) {
          if (untilEnd && src.ended) return null;
          yield* io.more();
          continue;
        }
        const take = Math.min(left, src.available);
        const data = io.take(take) as Uint8Array;
        left -= take;
        total += take;
        if (total > max) throw new HttpError('ERR_HTTP_BODY_TOO_LARGE', `more than ${max} bytes`, src.position);
        yield* io.emit({ type: 'body', data });
      }
      return null;
    };
    let trailers: Header[] = [];
    switch (framing.kind) {
      case 'none':
        break;
      case 'length':
        if (framing.length > max) throw new HttpError('ERR_HTTP_BODY_TOO_LARGE', `${framing.length} bytes, at most ${max}`);
        yield* pieces(framing.length, false);
        break;
      case 'until-close':
        yield* pieces(Infinity, true);
        break;
      case 'chunked':
        for (;;) {
          const at = src.position;
          const size = chunkSizeOf(yield* io.read(sizeLine), at);
          if (size === 0) break;
          yield* pieces(size, false);
          yield* io.read(chunkEndParser);
        }
        trailers = yield* io.read(trailerParser);
        break;
      default: {
        const never: never = framing;
        throw new EncodeError('ERR_ENCODE_RANGE', `unknown framing ${String(never)}`);
      }
    }
    yield* io.emit({ type: 'body-end', trailers });
    return next;
  });
}
