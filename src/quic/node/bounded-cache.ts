/**
 * A small process-wide memo for immutable things that are costly to make from bytes or text (parsed
 * certificates, imported keys, verifiers): looked up by the exact bytes (or string), bounded, and
 * simply cleared when full (the working set of a client or server is a handful of entries; a
 * program that feeds new ones every time only pays the making again).
 */
import { Buffer } from 'node:buffer';

export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly limit: number) {}

  /** The value for `key`, made by `make` (and kept) when absent; what `make` throws goes to the caller. */
  get(key: Uint8Array | string, make: () => V): V {
    const id = typeof key === 'string' ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
    let v = this.entries.get(id);
    if (v === undefined) {
      v = make();
      if (this.entries.size >= this.limit) this.entries.clear();
      this.entries.set(id, v);
    }
    return v;
  }
}
