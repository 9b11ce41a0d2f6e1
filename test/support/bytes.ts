/**
 * Small byte helpers for fixtures. Nothing here uses pullwire itself, so expected values built with them
 * stay independent of the code under test.
 */

/** Bytes from hex text; spaces, newlines and `_` are ignored (`hex('c2 19 7c 5e')`). */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s_]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`hex(): bad hex text ${JSON.stringify(text)}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lower-case hex of `bytes`, for messages. Long inputs are cut after `max` bytes. */
export function toHex(bytes: Uint8Array, max = 64): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join('');
  return bytes.length > max ? `${shown}... (${bytes.length} bytes)` : shown;
}

/** UTF-8 bytes of a string. */
export function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** One new array holding all parts in order. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Plain Uint8Array copy of any byte view (a Buffer becomes a Uint8Array), so deep equality compares content only. */
export function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Byte-wise equality of two views. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
