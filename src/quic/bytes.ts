/** Byte helpers shared by the QUIC layer (not constant time: for secrets use tls/key-schedule.ts's constantTimeEqual). */

/** True when `a` and `b` hold the same bytes. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
