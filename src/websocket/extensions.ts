/**
 * The grammar of Sec-WebSocket-Extensions (RFC 6455 section 9.1) and
 * Sec-WebSocket-Protocol (section 4.3), parsed and formatted.
 *
 * ```
 * extension-list  = 1#extension
 * extension       = extension-token *( ";" extension-param )
 * extension-param = token [ "=" (token | quoted-string) ]
 * ```
 *
 * "When using the quoted-string syntax variant, the value after
 * quoted-string unescaping MUST conform to the 'token' ABNF" (section 9.1).
 * Whitespace (SP / HTAB) is allowed around the separators, and empty list
 * elements are ignored (RFC 9110 section 5.6.1.2).
 */
import { WebSocketError, type WebSocketErrorCode } from './errors.js';

/** One `name[=value]` parameter. `value` is undefined when the parameter has none. */
export interface ExtensionParam {
  readonly name: string;
  readonly value: string | undefined;
}

/** One element of an extension list: an extension token and its parameters, in order. */
export interface ExtensionElement {
  readonly name: string;
  readonly params: readonly ExtensionParam[];
}

/** tchar (RFC 9110 section 5.6.2). */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** True when `s` is a non-empty token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A small scanner over one header value. */
class Scanner {
  i = 0;
  constructor(
    readonly s: string,
    private readonly code: WebSocketErrorCode,
  ) {}
  fail(what: string): never {
    throw new WebSocketError(this.code, `${what} at character ${this.i} of ${JSON.stringify(this.s)}`);
  }
  ows(): void {
    while (this.i < this.s.length && (this.s[this.i] === ' ' || this.s[this.i] === '\t')) this.i++;
  }
  peek(): string | undefined {
    return this.s[this.i];
  }
  token(): string {
    const start = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c >= 128 || TCHAR[c] === 0) break;
      this.i++;
    }
    if (this.i === start) this.fail('expected a token');
    return this.s.slice(start, this.i);
  }
  /** quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 section 5.6.4), unescaped. */
  quoted(): string {
    this.i++; // opening quote
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated quoted-string');
      const c = this.s[this.i]!;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === '\\') {
        this.i++;
        if (this.i >= this.s.length) this.fail('unterminated quoted-pair');
        out += this.s[this.i]!;
      } else {
        out += c;
      }
      this.i++;
    }
  }
}

/**
 * Parses the values of every Sec-WebSocket-Extensions field (in order) into
 * elements. Raises a WebSocketError with `code` (the caller's: 400 on a
 * server, a failed handshake on a client) for anything off the grammar.
 */
export function parseExtensions(values: readonly string[], code: WebSocketErrorCode): ExtensionElement[] {
  const out: ExtensionElement[] = [];
  for (const v of values) {
    const sc = new Scanner(v, code);
    for (;;) {
      sc.ows();
      if (sc.peek() === undefined) break;
      if (sc.peek() === ',') {
        sc.i++; // an empty list element
        continue;
      }
      const name = sc.token();
      const params: ExtensionParam[] = [];
      sc.ows();
      while (sc.peek() === ';') {
        sc.i++;
        sc.ows();
        const pname = sc.token();
        sc.ows();
        let value: string | undefined;
        if (sc.peek() === '=') {
          sc.i++;
          sc.ows();
          if (sc.peek() === '"') {
            value = sc.quoted();
            if (!isToken(value)) sc.fail(`quoted value ${JSON.stringify(value)} is not a token`);
          } else {
            value = sc.token();
          }
          sc.ows();
        }
        params.push({ name: pname, value });
      }
      out.push({ name, params });
      if (sc.peek() === undefined) break;
      if (sc.peek() !== ',') sc.fail('expected "," or ";"');
      sc.i++;
    }
  }
  return out;
}

/** Formats one extension element (`name; p1; p2=v`). */
export function formatExtension(e: ExtensionElement): string {
  let s = e.name;
  for (const p of e.params) s += p.value === undefined ? `; ${p.name}` : `; ${p.name}=${p.value}`;
  return s;
}

/**
 * Parses the values of every Sec-WebSocket-Protocol field: a list of tokens
 * (RFC 6455 section 4.1, "1#token"). Raises a WebSocketError with `code`.
 */
export function parseProtocols(values: readonly string[], code: WebSocketErrorCode): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const part of v.split(',')) {
      const t = part.trim();
      if (t === '') continue;
      if (!isToken(t)) throw new WebSocketError(code, `subprotocol ${JSON.stringify(t)} is not a token`);
      out.push(t);
    }
  }
  return out;
}
