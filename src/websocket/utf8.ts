/**
 * Incremental UTF-8 validation (RFC 3629 section 4), for text messages and
 * close reasons (RFC 6455 section 8.1: a text message that is not valid
 * UTF-8 fails the connection with 1007).
 *
 * The validator is fed the payload as it arrives, piece by piece, and
 * reports the first byte that can never start or continue a valid sequence,
 * so a connection fails as soon as the invalid byte is received, also when a
 * sequence is split across frames or reads. (A fatal `TextDecoder` only
 * reports truncated or invalid input once it decodes the whole buffer.)
 *
 * It is a small table-driven automaton over byte classes. The ASCII run
 * between sequences is skipped by a tight loop. An optional whole-buffer
 * validator (`node:buffer` `isUtf8`, 9-14 GB/s) can be injected for large
 * pieces: it runs over the part of the piece that ends at a sequence
 * boundary, and the automaton does the rest and locates any error.
 */

/** A fast validator of complete buffers: true when all of `bytes` is valid UTF-8. */
export type Utf8Check = (bytes: Uint8Array) => boolean;

// Byte classes.
const C_ASCII = 0; // 00-7F
const C_CONT_LOW = 1; // 80-8F
const C_CONT_MID = 2; // 90-9F
const C_CONT_HIGH = 3; // A0-BF
const C_BAD = 4; // C0 C1 F5-FF: never valid (overlong leads, beyond U+10FFFF)
const C_LEAD2 = 5; // C2-DF
const C_E0 = 6; // E0: second byte A0-BF (no overlong 3-byte forms)
const C_LEAD3 = 7; // E1-EC EE EF
const C_ED = 8; // ED: second byte 80-9F (no surrogates)
const C_F0 = 9; // F0: second byte 90-BF (no overlong 4-byte forms)
const C_LEAD4 = 10; // F1-F3
const C_F4 = 11; // F4: second byte 80-8F (nothing above U+10FFFF)

const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  CLASS[c] =
    c < 0x80
      ? C_ASCII
      : c < 0x90
        ? C_CONT_LOW
        : c < 0xa0
          ? C_CONT_MID
          : c < 0xc0
            ? C_CONT_HIGH
            : c < 0xc2
              ? C_BAD
              : c < 0xe0
                ? C_LEAD2
                : c === 0xe0
                  ? C_E0
                  : c === 0xed
                    ? C_ED
                    : c < 0xf0
                      ? C_LEAD3
                      : c === 0xf0
                        ? C_F0
                        : c < 0xf4
                          ? C_LEAD4
                          : c === 0xf4
                            ? C_F4
                            : C_BAD;
}

// States: what the bytes so far still require.
const S_ACCEPT = 0; // at a character boundary
const S_1 = 1; // one continuation byte (80-BF)
const S_2 = 2; // two continuation bytes
const S_E0 = 3; // A0-BF, then one
const S_ED = 4; // 80-9F, then one
const S_3 = 5; // three continuation bytes
const S_F0 = 6; // 90-BF, then two
const S_F4 = 7; // 80-8F, then two
const S_REJECT = 8;

const STATES = 9;
const CLASSES = 16;
const NEXT = new Uint8Array(STATES * CLASSES).fill(S_REJECT);
const edge = (s: number, classes: readonly number[], to: number): void => {
  for (const c of classes) NEXT[s * CLASSES + c] = to;
};
edge(S_ACCEPT, [C_ASCII], S_ACCEPT);
edge(S_ACCEPT, [C_LEAD2], S_1);
edge(S_ACCEPT, [C_E0], S_E0);
edge(S_ACCEPT, [C_LEAD3], S_2);
edge(S_ACCEPT, [C_ED], S_ED);
edge(S_ACCEPT, [C_F0], S_F0);
edge(S_ACCEPT, [C_LEAD4], S_3);
edge(S_ACCEPT, [C_F4], S_F4);
edge(S_1, [C_CONT_LOW, C_CONT_MID, C_CONT_HIGH], S_ACCEPT);
edge(S_2, [C_CONT_LOW, C_CONT_MID, C_CONT_HIGH], S_1);
edge(S_E0, [C_CONT_HIGH], S_1);
edge(S_ED, [C_CONT_LOW, C_CONT_MID], S_1);
edge(S_3, [C_CONT_LOW, C_CONT_MID, C_CONT_HIGH], S_2);
edge(S_F0, [C_CONT_MID, C_CONT_HIGH], S_2);
edge(S_F4, [C_CONT_LOW], S_2);

/** Pieces at least this long go through the injected whole-buffer check first (ws switches at 24 bytes). */
const FAST_CHECK_MIN = 32;

/**
 * Validates a byte stream fed in pieces. `update` returns -1 while the bytes
 * so far can still be (the start of) valid UTF-8, else the index (in the
 * piece) of the first byte that makes them invalid; `complete` says whether
 * the stream ends at a character boundary (a text message must).
 */
export class Utf8Validator {
  private state = S_ACCEPT;

  constructor(private readonly fast: Utf8Check | undefined = undefined) {}

  /** True at a character boundary: the bytes so far are valid, complete UTF-8. */
  get complete(): boolean {
    return this.state === S_ACCEPT;
  }

  /** Back to the start (a new message). */
  reset(): void {
    this.state = S_ACCEPT;
  }

  /** Feeds `b[start..end)`. Returns -1, or the index of the first invalid byte (the validator then stays failed). */
  update(b: Uint8Array, start = 0, end = b.length): number {
    let s = this.state;
    if (s === S_REJECT) return start;
    let i = start;
    // Finish a sequence the previous piece left open (at most 3 bytes).
    while (s !== S_ACCEPT && i < end) {
      s = NEXT[s * CLASSES + CLASS[b[i]!]!]!;
      if (s === S_REJECT) {
        this.state = S_REJECT;
        return i;
      }
      i++;
    }
    if (this.fast !== undefined && end - i >= FAST_CHECK_MIN) {
      // The whole-buffer check over the part that ends at a character boundary.
      const cut = boundaryBefore(b, i, end);
      if (this.fast(i === 0 && cut === b.length ? b : b.subarray(i, cut))) i = cut;
      // else: the automaton below finds the byte.
    }
    while (i < end) {
      if (s === S_ACCEPT) {
        while (i < end && b[i]! < 0x80) i++;
        if (i === end) break;
      }
      s = NEXT[s * CLASSES + CLASS[b[i]!]!]!;
      if (s === S_REJECT) {
        this.state = S_REJECT;
        return i;
      }
      i++;
    }
    this.state = s;
    return -1;
  }
}

/**
 * The end of the last complete sequence in `b[start..end)` (assuming it
 * starts at a boundary): `end` minus an unfinished sequence at the tail.
 */
function boundaryBefore(b: Uint8Array, start: number, end: number): number {
  // Walk back over at most 3 continuation bytes to the last lead byte.
  let k = end - 1;
  const stop = Math.max(start, end - 4);
  while (k > stop && (b[k]! & 0xc0) === 0x80) k--;
  const lead = b[k]!;
  const len = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return k + len > end ? k : end;
}

/** True when all of `b` is valid UTF-8 (one-shot, no fast check). */
export function isValidUtf8(b: Uint8Array, fast?: Utf8Check): boolean {
  const v = new Utf8Validator(fast);
  return v.update(b) === -1 && v.complete;
}
