import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STATIC_BY_NAME, STATIC_TABLE, STATIC_TABLE_SIZE } from '../../../src/http3/qpack/static-table.js';

describe('static table (RFC 9204 Appendix A)', () => {
  it('has 99 entries, lowercase names', () => {
    assert.equal(STATIC_TABLE.length, 99);
    assert.equal(STATIC_TABLE_SIZE, 99);
    for (const f of STATIC_TABLE) assert.equal(f.name, f.name.toLowerCase());
  });

  it('spot checks against the RFC, including the entries Appendix B uses', () => {
    const expect: Array<[number, string, string]> = [
      [0, ':authority', ''], // B.2 Insert With Name Reference, Static Table, Index=0
      [1, ':path', '/'], // B.1 name, B.4 "Static Table Index = 1 (:path=/)"
      [2, 'age', '0'],
      [15, ':method', 'CONNECT'],
      [17, ':method', 'GET'],
      [23, ':scheme', 'https'],
      [25, ':status', '200'],
      [29, 'accept', '*/*'],
      [31, 'accept-encoding', 'gzip, deflate, br'],
      [52, 'content-type', 'text/html; charset=utf-8'],
      [58, 'strict-transport-security', 'max-age=31536000; includesubdomains; preload'],
      [63, ':status', '100'],
      [71, ':status', '500'],
      [73, 'access-control-allow-credentials', 'FALSE'],
      [85, 'content-security-policy', "script-src 'none'; object-src 'none'; base-uri 'none'"],
      [95, 'user-agent', ''],
      [98, 'x-frame-options', 'sameorigin'],
    ];
    for (const [i, name, value] of expect) assert.deepEqual({ ...STATIC_TABLE[i] }, { name, value }, `index ${i}`);
  });

  it('the encoder lookup finds the lowest index of a name and each value', () => {
    assert.equal(STATIC_BY_NAME.get(':status')!.nameIndex, 24);
    assert.equal(STATIC_BY_NAME.get(':status')!.values.get('500'), 71);
    assert.equal(STATIC_BY_NAME.get('cache-control')!.values.get('no-store'), 40);
    for (const [name, m] of STATIC_BY_NAME) {
      assert.equal(STATIC_TABLE[m.nameIndex]!.name, name);
      for (const [value, i] of m.values) assert.deepEqual({ ...STATIC_TABLE[i] }, { name, value });
    }
  });
});
