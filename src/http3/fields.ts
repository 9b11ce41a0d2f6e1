/**
 * HTTP/3 message validation: field names and values, pseudo-header fields,
 * connection-specific fields and Content-Length (RFC 9114 sections 4.1.2,
 * 4.2, 4.3, 4.4; RFC 9110 sections 5.1, 5.5, 8.6).
 *
 * A received message that breaks these rules is malformed: the connection
 * turns the {@link Http3Error} H3_MESSAGE_ERROR these functions raise into a
 * stream error (section 4.1.2: "Malformed requests or responses that are
 * detected MUST be treated as a stream error of type H3_MESSAGE_ERROR"). The
 * same checks run on what we send, where a failure is the caller's mistake.
 */
import type { HeaderField } from './qpack/index.js';
import { Http3Error } from './errors.js';

/** What a valid request header section says (section 4.3.1). */
export interface RequestHead {
  readonly method: string;
  /** Absent for CONNECT (section 4.4). */
  readonly scheme: string | null;
  /** `:authority`, or the Host field when `:authority` is absent. */
  readonly authority: string | null;
  /** Absent for CONNECT. */
  readonly path: string | null;
  /** The Content-Length value, or null when absent. */
  readonly contentLength: number | null;
}

/** What a valid response header section says (section 4.3.2). */
export interface ResponseHead {
  readonly status: number;
  readonly contentLength: number | null;
}

/**
 * Connection-specific fields: "any message containing connection-specific
 * fields MUST be treated as malformed" (section 4.2; the list is RFC 9110
 * section 7.6.1's, plus the ones HTTP/2 names in RFC 9113 section 8.2.2).
 * TE is handled apart: allowed in requests with the value "trailers".
 */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path']);

/** RFC 9110 section 5.6.2 tchar, lowercase only (section 4.2: uppercase names are malformed). */
const TCHAR = (() => {
  const t = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") t[c.charCodeAt(0)] = 1;
  return t;
})();

function malformed(reason: string, streamId: number): Http3Error {
  return new Http3Error('H3_MESSAGE_ERROR', reason, { scope: 'stream', streamId });
}

/** A regular field name: one or more lowercase tchars. */
function checkName(name: string, streamId: number): void {
  if (name.length === 0) throw malformed('empty field name', streamId);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TCHAR[c] !== 1) {
      throw malformed(
        c >= 0x41 && c <= 0x5a
          ? `uppercase field name ${JSON.stringify(name)} (section 4.2)`
          : `invalid character in field name ${JSON.stringify(name)}`,
        streamId,
      );
    }
  }
}

/**
 * A field value (RFC 9110 section 5.5): no control characters other than
 * HTAB (NUL, CR and LF above all), and no leading or trailing whitespace.
 */
function checkValue(name: string, value: string, streamId: number): void {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw malformed(`invalid character 0x${c.toString(16)} in the value of ${name}`, streamId);
  }
  if (n > 0) {
    const first = value.charCodeAt(0);
    const last = value.charCodeAt(n - 1);
    if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) {
      throw malformed(`leading or trailing whitespace in the value of ${name}`, streamId);
    }
  }
}

/**
 * Content-Length (RFC 9110 section 8.6): digits; a list of identical values
 * (several lines or comma-separated) counts as one; anything else is malformed.
 */
function mergeContentLength(previous: number | null, value: string, streamId: number): number {
  let result = previous;
  for (const part of value.split(',')) {
    const v = part.trim();
    if (!/^[0-9]{1,15}$/.test(v)) throw malformed(`invalid content-length ${JSON.stringify(value)}`, streamId);
    const n = Number(v);
    if (result !== null && result !== n) throw malformed('conflicting content-length values', streamId);
    result = n;
  }
  return result!;
}

/** Checks the regular fields shared by requests, responses and trailers; returns the Content-Length. */
function checkRegularField(f: HeaderField, isRequest: boolean, contentLength: number | null, streamId: number): number | null {
  checkName(f.name, streamId);
  checkValue(f.name, f.value, streamId);
  if (CONNECTION_SPECIFIC.has(f.name)) throw malformed(`connection-specific field ${f.name} (section 4.2)`, streamId);
  if (f.name === 'te' && (!isRequest || f.value !== 'trailers')) throw malformed('TE other than "trailers" (section 4.2)', streamId);
  if (f.name === 'content-length') return mergeContentLength(contentLength, f.value, streamId);
  return contentLength;
}

/** Schemes with a mandatory authority component (section 4.3.1). */
function schemeNeedsAuthority(scheme: string): boolean {
  return scheme === 'http' || scheme === 'https';
}

/**
 * Validates a request header section (sections 4.2, 4.3.1, 4.4). Raises
 * H3_MESSAGE_ERROR (stream scope) when malformed.
 */
export function checkRequestHead(fields: readonly HeaderField[], streamId = -1): RequestHead {
  let method: string | null = null;
  let scheme: string | null = null;
  let authority: string | null = null;
  let path: string | null = null;
  let host: string | null = null;
  let contentLength: number | null = null;
  let regular = false;
  for (const f of fields) {
    if (f.name.startsWith(':')) {
      // "All pseudo-header fields MUST appear in the header section before regular header fields" (section 4.3).
      if (regular) throw malformed(`pseudo-header ${f.name} after a regular field (section 4.3)`, streamId);
      if (!REQUEST_PSEUDO.has(f.name)) throw malformed(`pseudo-header ${f.name} is not defined for requests (section 4.3)`, streamId);
      checkValue(f.name, f.value, streamId);
      const once = (v: string | null): string => {
        if (v !== null) throw malformed(`${f.name} appears twice (section 4.3.1)`, streamId);
        return f.value;
      };
      if (f.name === ':method') method = once(method);
      else if (f.name === ':scheme') scheme = once(scheme);
      else if (f.name === ':authority') authority = once(authority);
      else path = once(path);
      continue;
    }
    regular = true;
    contentLength = checkRegularField(f, true, contentLength, streamId);
    if (f.name === 'host') {
      if (host !== null) throw malformed('host appears twice', streamId);
      host = f.value;
    }
  }
  if (method === null || method.length === 0) throw malformed('no :method (section 4.3.1)', streamId);
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    // The method is a token (RFC 9110 section 9.1), case-sensitive: uppercase letters are fine here.
    if (c >= 128 || (TCHAR[c] !== 1 && !(c >= 0x41 && c <= 0x5a))) throw malformed('invalid :method', streamId);
  }
  if (method === 'CONNECT') {
    // Section 4.4: ":scheme and :path pseudo-header fields are omitted", ":authority ... contains the host and port".
    if (scheme !== null || path !== null) throw malformed('CONNECT with :scheme or :path (section 4.4)', streamId);
    if (authority === null || authority.length === 0) throw malformed('CONNECT without :authority (section 4.4)', streamId);
    return { method, scheme: null, authority, path: null, contentLength };
  }
  if (scheme === null || scheme.length === 0) throw malformed('no :scheme (section 4.3.1)', streamId);
  if (path === null || path.length === 0) throw malformed('no :path, or an empty one (section 4.3.1)', streamId);
  if (authority !== null && authority.length === 0) throw malformed('empty :authority (section 4.3.1)', streamId);
  if (host !== null && host.length === 0) throw malformed('empty host (section 4.3.1)', streamId);
  if (authority !== null && host !== null && authority !== host) throw malformed(':authority and host differ (section 4.3.1)', streamId);
  if (schemeNeedsAuthority(scheme)) {
    if (authority === null && host === null) throw malformed(`${scheme} request without :authority or host (section 4.3.1)`, streamId);
    // "path-absolute" starts with "/"; "*" is the asterisk-form of OPTIONS (section 4.3.1).
    if (path !== '*' && !path.startsWith('/')) throw malformed(':path is neither absolute nor "*"', streamId);
    if (path === '*' && method !== 'OPTIONS') throw malformed(':path "*" outside OPTIONS', streamId);
    if (authority !== null && authority.includes('@')) throw malformed(':authority with userinfo (section 4.3.1)', streamId);
  }
  return { method, scheme, authority: authority ?? host, path, contentLength };
}

/**
 * Validates a response header section (sections 4.2, 4.3.2, 4.5). Raises
 * H3_MESSAGE_ERROR (stream scope) when malformed.
 */
export function checkResponseHead(fields: readonly HeaderField[], streamId = -1): ResponseHead {
  let status: string | null = null;
  let contentLength: number | null = null;
  let regular = false;
  for (const f of fields) {
    if (f.name.startsWith(':')) {
      if (regular) throw malformed(`pseudo-header ${f.name} after a regular field (section 4.3)`, streamId);
      if (f.name !== ':status') throw malformed(`pseudo-header ${f.name} is not defined for responses (section 4.3)`, streamId);
      if (status !== null) throw malformed(':status appears twice (section 4.3.2)', streamId);
      status = f.value;
      continue;
    }
    regular = true;
    contentLength = checkRegularField(f, false, contentLength, streamId);
  }
  if (status === null) throw malformed('no :status (section 4.3.2)', streamId);
  if (!/^[1-5][0-9][0-9]$/.test(status)) throw malformed(`invalid :status ${JSON.stringify(status)}`, streamId);
  const code = Number(status);
  // Section 4.5: HTTP/3 does not support 101 (Switching Protocols).
  if (code === 101) throw malformed('101 Switching Protocols is not allowed in HTTP/3 (section 4.5)', streamId);
  return { status: code, contentLength };
}

/** Validates a trailer section: regular fields only (section 4.3: "Pseudo-header fields MUST NOT appear in trailer sections"). */
export function checkTrailers(fields: readonly HeaderField[], streamId = -1): void {
  for (const f of fields) {
    if (f.name.startsWith(':')) throw malformed(`pseudo-header ${f.name} in a trailer section (section 4.3)`, streamId);
    checkRegularField(f, false, null, streamId);
  }
}

/**
 * The field section's size as SETTINGS_MAX_FIELD_SECTION_SIZE counts it
 * (section 4.2.2): name and value lengths in bytes plus 32 per field.
 */
export function fieldSectionSize(fields: readonly HeaderField[]): number {
  let n = 0;
  for (const f of fields) n += utf8Length(f.name) + utf8Length(f.value) + 32;
  return n;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** The value of the first field called `name` (lowercase), or null. */
export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  for (const f of fields) if (f.name === name) return f.value;
  return null;
}
