/**
 * A permessage-deflate codec whose compressor is `node:zlib`, for the cases
 * fflate cannot serve: zlib limits its LZ77 window to 2^bits bytes, so this
 * codec can agree to `server_max_window_bits` / `client_max_window_bits` of
 * 9-15 for the data it sends. (8 is not offered: zlib silently widens a raw
 * deflate window of 8 bits to 9, which could reach past what the peer keeps.)
 *
 * The protocol code is synchronous, so the compressor uses zlib's synchronous
 * one-shot call per message. Context takeover is kept exact by handing zlib
 * the last 2^bits bytes sent so far as a preset dictionary: the peer's
 * inflater holds the same bytes as its window, and a sync-flushed raw DEFLATE
 * stream can be continued by a new one at that byte boundary.
 *
 * Decompression stays with fflate (any window up to 32 KiB inflates there,
 * and it runs piece by piece as data arrives, which the size limit needs).
 */
import { constants, deflateRawSync } from 'node:zlib';
import type { Compressor, DeflateCodec } from '../deflate.js';
import { fflateCodec } from '../fflate.js';

export interface ZlibCodecOptions {
  /** zlib memLevel 1-9 (memory for the compressor's state). Default 8 (zlib's default). */
  readonly memLevel?: number;
}

class ZlibCompressor implements Compressor {
  private readonly window: number;
  /** The last bytes sent (at most `window` valid bytes at the end of `hist[0..histLen)`). */
  private hist: Uint8Array;
  private histLen = 0;
  constructor(
    private readonly bits: number,
    private readonly level: number,
    private readonly memLevel: number,
  ) {
    this.window = 1 << bits;
    this.hist = new Uint8Array(2 * this.window);
  }
  compress(data: Uint8Array, fin: boolean): Uint8Array {
    void fin; // every part ends with a sync flush: a valid end of a message and a valid continuation point
    const dict = this.histLen > 0 ? this.hist.subarray(Math.max(0, this.histLen - this.window), this.histLen) : undefined;
    const out = deflateRawSync(data, {
      windowBits: this.bits,
      level: this.level,
      memLevel: this.memLevel,
      finishFlush: constants.Z_SYNC_FLUSH,
      ...(dict === undefined ? {} : { dictionary: dict }),
    });
    this.remember(data);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }
  private remember(data: Uint8Array): void {
    const w = this.window;
    if (data.length >= w) {
      this.hist.set(data.subarray(data.length - w), 0);
      this.histLen = w;
      return;
    }
    if (this.histLen + data.length > this.hist.length) {
      // Keep the last window's worth, then append.
      const keep = Math.min(this.histLen, w - data.length);
      this.hist.copyWithin(0, this.histLen - keep, this.histLen);
      this.histLen = keep;
    }
    this.hist.set(data, this.histLen);
    this.histLen += data.length;
  }
  reset(): void {
    this.histLen = 0;
  }
}

/** The node:zlib codec (see the module documentation). */
export function zlibCodec(options: ZlibCodecOptions = {}): DeflateCodec {
  const memLevel = options.memLevel ?? 8;
  return {
    name: 'node:zlib',
    contextTakeover: true,
    supportsWindowBits: (bits) => bits >= 9 && bits <= 15,
    createCompressor: ({ windowBits, level }) => new ZlibCompressor(windowBits, Math.max(0, Math.min(9, Math.round(level))), memLevel),
    createDecompressor: () => fflateCodec.createDecompressor(),
  };
}
