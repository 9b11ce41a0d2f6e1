/**
 * The portable DEFLATE codec of permessage-deflate: `fflate` (pure
 * JavaScript, so it runs wherever the protocol code runs). The Node adapter
 * uses its node:zlib codec instead (./node/zlib.ts).
 *
 * What fflate 0.8.3 can and cannot do here:
 * - its streaming `Inflate` accepts sync-flushed data piece by piece and
 *   keeps its 32 KiB window between pushes: it is the decompressor (of both
 *   codecs). After a final block it ignores further input, so `ended`
 *   reports that state and the connection starts a new stream for the next
 *   message;
 * - its streaming `Deflate` is NOT used: `flush(true)` writes a corrupt empty
 *   stored block whenever the pending bits are not byte-aligned (fflate issue
 *   #267, fix in PR #286, unreleased), and the streaming class has another
 *   open report of invalid back-references (#260). The one-shot
 *   `deflateSync` is correct, so each message is compressed on its own as a
 *   complete DEFLATE stream with a final block, followed by the empty stored
 *   block (RFC 7692 section 7.2.3.4 shows this form). That means no context
 *   takeover for the messages this codec sends (`contextTakeover: false`:
 *   negotiation declares it), and a 32 KiB window only (`supportsWindowBits`
 *   is true for 15 alone);
 * - fragments of a compressed message that are not the last are sent as
 *   stored (uncompressed) non-final DEFLATE blocks, and the last fragment is
 *   compressed: a one-shot stream can only end a message.
 */
import { Inflate, deflateSync } from 'fflate';
import type { Compressor, Decompressor, DeflateCodec } from './deflate.js';

type Level = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/**
 * fflate's memory level (hash table 2^(12+mem) entries). Measured for 1 KiB
 * JSON messages: ~32 µs at 4 against ~51 µs with fflate's size-based
 * default, same output size; no difference at 64 KiB.
 */
const MEM = 4;

/** The empty stored block (BFINAL 0, BTYPE 00, aligned; LEN 0, NLEN ffff), at a byte boundary. */
const EMPTY_STORED = Uint8Array.of(0x00, 0x00, 0x00, 0xff, 0xff);
const MAX_STORED = 65535;

/** `data` as non-final stored blocks (RFC 1951 section 3.2.4), starting at a byte boundary. */
function storedBlocks(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / MAX_STORED));
  const out = new Uint8Array(data.length + 5 * blocks);
  let o = 0;
  for (let i = 0; i < blocks; i++) {
    const part = data.subarray(i * MAX_STORED, (i + 1) * MAX_STORED);
    const n = part.length;
    out[o] = 0; // BFINAL 0, BTYPE 00, then padding to the byte boundary
    out[o + 1] = n & 0xff;
    out[o + 2] = n >>> 8;
    out[o + 3] = ~n & 0xff;
    out[o + 4] = (~n >>> 8) & 0xff;
    out.set(part, o + 5);
    o += 5 + n;
  }
  return out;
}

class FflateCompressor implements Compressor {
  constructor(private readonly level: Level) {}
  compress(data: Uint8Array, fin: boolean): Uint8Array {
    if (!fin) return storedBlocks(data);
    // A complete stream (ending with a final block, padded to a byte), then the empty stored block.
    const z = deflateSync(data, { level: this.level, mem: MEM });
    const out = new Uint8Array(z.length + EMPTY_STORED.length);
    out.set(z, 0);
    out.set(EMPTY_STORED, z.length);
    return out;
  }
  reset(): void {
    // Every message is compressed on its own already.
  }
}

/** The state fflate keeps in its Inflate (private field `s`): `f` is set by a final block, `l` while inside a block. */
interface InflateState {
  readonly f?: number;
  readonly l?: unknown;
}

class FflateDecompressor implements Decompressor {
  private i: Inflate;
  private sink: ((out: Uint8Array) => void) | null = null;
  constructor() {
    this.i = this.create();
  }
  private create(): Inflate {
    return new Inflate((chunk) => {
      if (chunk.length > 0) this.sink?.(chunk);
    });
  }
  decompress(data: Uint8Array, onData: (out: Uint8Array) => void): void {
    this.sink = onData;
    try {
      this.i.push(data, false);
    } catch (e) {
      this.i = this.create();
      throw e;
    } finally {
      this.sink = null;
    }
  }
  get ended(): boolean {
    const s = (this.i as unknown as { s?: InflateState }).s;
    return s !== undefined && s.f === 1 && (s.l === null || s.l === undefined);
  }
  reset(): void {
    this.i = this.create();
  }
}

/** The fflate codec. The level is set per compressor by permessage-deflate's options. */
export const fflateCodec: DeflateCodec = {
  name: 'fflate',
  contextTakeover: false,
  supportsWindowBits: (bits) => bits === 15,
  createCompressor: ({ level }) => new FflateCompressor(Math.max(0, Math.min(9, Math.round(level))) as Level),
  createDecompressor: () => new FflateDecompressor(),
};
