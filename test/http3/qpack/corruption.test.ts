/**
 * The corruption invariant (STYLE.md habit 7) at QPACK's three entry points: any bytes as a field
 * section, as the encoder stream (in chunks), or as the decoder stream give a QpackError or a result,
 * never another exception and never a hang.
 */
import { describe, it } from 'node:test';
import { QpackDecoder, QpackEncoder, QpackError } from '../../../src/http3/qpack/index.js';
import { hex } from '../../support/bytes.js';
import { checkCorruption } from '../../support/splits.js';

const isQpackError = (e: unknown): boolean => e instanceof QpackError && e.h3Code >= 0x200 && e.h3Code <= 0x202;

// RFC 9204 Appendix B bytes as seeds.
const B_ENCODER = hex(
  '3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468' +
    '4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565 02 810d 6375 7374 6f6d 2d76 616c 7565 32',
);
const SECTIONS = [
  hex('0000 510b 2f69 6e64 6578 2e68 746d 6c'),
  hex('0381 10 11'),
  hex('0500 80 c1 81'),
  // Huffman strings, a literal name, N bits, post-Base name reference.
  hex('0381 5f1d 85 aec3 771a 4b 3f01 25a8 49e9 5ba9 7d7f 89 25a8 49e9 5bb8 e8b4 bf 08 02 6f6b'),
];

/** A decoder holding the table of RFC 9204 B.2-B.3 (3 entries), as the stage for field sections. */
function stagedDecoder(): QpackDecoder {
  const d = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 2, maxFieldSectionSize: 4096 });
  d.receiveEncoderStream(B_ENCODER.subarray(0, 60));
  return d;
}

describe('QPACK corruption invariant', () => {
  it('field sections: random bytes and mutations of valid sections', () => {
    checkCorruption(
      (input) => {
        const d = stagedDecoder();
        const r = d.decodeFieldSection(4, input);
        // A blocked section must not break later processing either.
        if (r.kind === 'blocked') d.receiveEncoderStream(B_ENCODER.subarray(60));
        d.takeUnblocked();
        d.takeDecoderStreamData();
      },
      SECTIONS,
      { isTypedError: isQpackError, numRuns: 300 },
    );
  });

  it('encoder stream: random bytes and mutations, fed in small chunks', () => {
    checkCorruption(
      (input) => {
        const d = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 2 });
        // A blocked section waiting on whatever the stream inserts.
        d.decodeFieldSection(4, hex('0381 10 11'));
        const sizes = [1, 3, 7, 2, 16];
        for (let at = 0, i = 0; at < input.length; i++) {
          const n = sizes[i % sizes.length]!;
          d.receiveEncoderStream(input.subarray(at, at + n));
          at += n;
        }
        d.takeUnblocked();
        d.takeDecoderStreamData();
      },
      B_ENCODER,
      { isTypedError: isQpackError, numRuns: 300 },
    );
  });

  it('decoder stream: random bytes and mutations, whole and byte by byte', () => {
    const staged = (): QpackEncoder => {
      const e = new QpackEncoder();
      e.applyPeerSettings({ maxTableCapacity: 4096, blockedStreams: 4 });
      e.encodeFieldSection(4, [{ name: 'x-a', value: '1' }]);
      e.encodeFieldSection(8, [{ name: 'x-b', value: '2' }]);
      return e;
    };
    checkCorruption(
      (input) => {
        staged().receiveDecoderStream(input);
        const e = staged();
        for (const b of input) e.receiveDecoderStream(Uint8Array.of(b));
      },
      [hex('84 88'), hex('02'), hex('44 48 01'), hex('84 01')],
      { isTypedError: isQpackError, numRuns: 300 },
    );
  });
});
