/**
 * The address text helpers of preferred_address (src/quic/connection/paths.ts): RFC 4291 section 2.2 text
 * forms in, RFC 5952 section 4 canonical text out, checked against hand-written byte values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ipv4Bytes, ipv4Text, ipv6Bytes, ipv6Text } from '../../../src/quic/connection/paths.js';

describe('preferred_address address text', () => {
  it('IPv4 dotted quads', () => {
    assert.deepEqual(ipv4Bytes('192.0.2.1'), Uint8Array.from([192, 0, 2, 1]));
    assert.deepEqual(ipv4Bytes('0.0.0.0'), new Uint8Array(4));
    for (const bad of ['256.0.0.1', '1.2.3', '1.2.3.4.5', 'a.b.c.d', '1..2.3', '', '1.2.3.-4', '1.2.3.1234'])
      assert.equal(ipv4Bytes(bad), null, bad);
    assert.equal(ipv4Text(Uint8Array.from([203, 0, 113, 7])), '203.0.113.7');
  });

  it('IPv6 text forms (RFC 4291 section 2.2)', () => {
    const doc = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    assert.deepEqual([...ipv6Bytes('2001:db8::1')!], doc);
    assert.deepEqual([...ipv6Bytes('2001:0DB8:0:0:0:0:0:1')!], doc);
    assert.deepEqual([...ipv6Bytes('::')!], new Array<number>(16).fill(0));
    assert.deepEqual([...ipv6Bytes('::1')!], [...new Array<number>(15).fill(0), 1]);
    assert.deepEqual([...ipv6Bytes('::ffff:192.0.2.1')!], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1:2:3:4:5:6:7::8', ':1:2:3:4:5:6:7', '10.0.0.1'])
      assert.equal(ipv6Bytes(bad), null, bad);
  });

  it('IPv6 canonical text (RFC 5952 section 4: lower case, longest zero run compressed, a lone zero group kept)', () => {
    assert.equal(ipv6Text(ipv6Bytes('2001:DB8:0:0:0:0:0:1')!), '2001:db8::1');
    assert.equal(ipv6Text(ipv6Bytes('2001:db8:0:1:1:1:1:1')!), '2001:db8:0:1:1:1:1:1');
    assert.equal(ipv6Text(ipv6Bytes('2001:0:0:1:0:0:0:1')!), '2001:0:0:1::1');
    assert.equal(ipv6Text(new Uint8Array(16)), '::');
  });

  it('IPv6 bytes -> text -> bytes round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (b, zeros) => {
        const v = b.slice();
        if (zeros) v.fill(0, 4, 10);
        assert.deepEqual(ipv6Bytes(ipv6Text(v)), v);
      }),
    );
  });
});
