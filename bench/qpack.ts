/**
 * Benchmarks of QPACK (src/http3/qpack), each against a hand-written anchor
 * in the same process:
 *
 * - `decode-static`: QpackDecoder.decodeFieldSection on request header
 *   sections that use only the static table and literals (no Huffman), against
 *   a loop that decodes exactly those representations (static indexed, literal
 *   with static name reference, literal name) into the same {name, value}
 *   objects, with nothing else (no dynamic table, no Huffman, no checks
 *   beyond bounds);
 * - `encode-static`: QpackEncoder.encodeFieldSection with no dynamic table and
 *   no Huffman, against a loop doing the static-table lookups and byte writes
 *   into one preallocated buffer; both produce the same bytes;
 * - `huffman-decode`: our nibble-table Huffman decoder against the textbook
 *   bit-by-bit walk of the code tree, on typical header values.
 *
 * Every run's checksum must equal the one computed from the generator's own
 * record of what it wrote.
 */
import { QpackDecoder, QpackEncoder, STATIC_TABLE, type HeaderField } from '../src/http3/qpack/index.js';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecode, huffmanEncode, huffmanEncodedLength } from '../src/http3/qpack/huffman.js';
import { between, Checksum, defineCase, rng, type BenchCase } from './harness.js';

const SECTIONS = 2000;

/** Typical browser request headers; the path, cookie-less values and a custom header vary per request. */
function makeRequests(seed: number): HeaderField[][] {
  const r = rng(seed);
  const agents = [
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  ];
  const out: HeaderField[][] = [];
  for (let i = 0; i < SECTIONS; i++) {
    out.push([
      { name: ':method', value: 'GET' },
      { name: ':scheme', value: 'https' },
      { name: ':authority', value: `www.example${between(r, 1, 9)}.com` },
      { name: ':path', value: `/assets/${between(r, 0, 99999)}/image-${between(r, 0, 999)}.png?v=${between(r, 0, 1e6)}` },
      { name: 'user-agent', value: agents[between(r, 0, 1)]! },
      { name: 'accept', value: '*/*' },
      { name: 'accept-encoding', value: 'gzip, deflate, br' },
      { name: 'accept-language', value: 'en-US,en;q=0.9' },
      { name: 'x-request-id', value: `${between(r, 0, 2 ** 31)}-${between(r, 0, 2 ** 31)}` },
    ]);
  }
  return out;
}

function checksumFields(sections: readonly (readonly HeaderField[])[]): number {
  const c = new Checksum();
  for (const s of sections) {
    c.add(s.length);
    for (const f of s) {
      c.add(f.name.length);
      c.add(f.value.length);
      c.add(f.value.charCodeAt(f.value.length - 1) | 0);
    }
  }
  return c.value;
}

// ---------------------------------------------------------------- anchors

/** name -> [lowest index with that name, value -> index]. */
const STATIC_LOOKUP = new Map<string, [number, Map<string, number>]>();
STATIC_TABLE.forEach((f, i) => {
  let e = STATIC_LOOKUP.get(f.name);
  if (e === undefined) STATIC_LOOKUP.set(f.name, (e = [i, new Map()]));
  if (!e[1].has(f.value)) e[1].set(f.value, i);
});
const textDecoder = new TextDecoder();

/** Prefixed integer at `buf[p]` with an N-bit prefix (RFC 7541 section 5.1), into anchorInt / anchorPos. */
let anchorPos = 0;
function anchorInt(buf: Uint8Array, p: number, n: number): number {
  const max = (1 << n) - 1;
  let v = buf[p++]! & max;
  if (v === max) {
    let m = 0;
    let b: number;
    do {
      b = buf[p++]!;
      v += (b & 0x7f) << m;
      m += 7;
    } while (b & 0x80);
  }
  anchorPos = p;
  return v;
}

function anchorString(buf: Uint8Array, p: number, n: number): string {
  const len = anchorInt(buf, p, n - 1);
  p = anchorPos;
  anchorPos = p + len;
  // Short strings char by char, longer ones through TextDecoder (the faster way for each).
  if (len > 16) return textDecoder.decode(buf.subarray(p, p + len));
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(buf[p + i]!);
  return s;
}

/** Decodes static-only sections: prefix 00 00, then 1T.. (T=1), 01NT.. (T=1), 001N H=0... */
function anchorDecode(block: Uint8Array): HeaderField[] {
  const out: HeaderField[] = [];
  let p = 2;
  while (p < block.length) {
    const b = block[p]!;
    if (b & 0x80) {
      out.push(STATIC_TABLE[anchorInt(block, p, 6)]!);
      p = anchorPos;
    } else if (b & 0x40) {
      const name = STATIC_TABLE[anchorInt(block, p, 4)]!.name;
      const value = anchorString(block, anchorPos, 8);
      p = anchorPos;
      out.push({ name, value });
    } else {
      const name = anchorString(block, p, 4);
      const value = anchorString(block, anchorPos, 8);
      p = anchorPos;
      out.push({ name, value });
    }
  }
  return out;
}

/** Encodes with the static table only, no Huffman, into `buf`; returns the length. */
function anchorEncode(fields: readonly HeaderField[], buf: Uint8Array): number {
  let p = 0;
  const int = (flags: number, n: number, v: number): void => {
    const max = (1 << n) - 1;
    if (v < max) {
      buf[p++] = flags | v;
      return;
    }
    buf[p++] = flags | max;
    v -= max;
    while (v >= 128) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p++] = v;
  };
  const str = (flags: number, n: number, s: string): void => {
    int(flags, n - 1, s.length);
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
  };
  buf[p++] = 0;
  buf[p++] = 0;
  for (const f of fields) {
    const e = STATIC_LOOKUP.get(f.name);
    const exact = e?.[1].get(f.value);
    if (exact !== undefined) {
      int(0xc0, 6, exact);
      continue;
    }
    if (e !== undefined) {
      int(0x50, 4, e[0]);
      str(0, 8, f.value);
    } else {
      str(0x20, 4, f.name);
      str(0, 8, f.value);
    }
  }
  return p;
}

/** The textbook Huffman decoder: walk a binary tree bit by bit (RFC 7541 Appendix B codes). */
const tree: Int32Array = (() => {
  // node i has children at [2i, 2i+1]; value >= 0: child node index, < 0: -(symbol + 1); 0 = none.
  const t = new Int32Array(2 * 512);
  let next = 1;
  for (let sym = 0; sym <= 256; sym++) {
    let node = 0;
    for (let i = HUFFMAN_LENGTHS[sym]! - 1; i >= 0; i--) {
      const bit = (HUFFMAN_CODES[sym]! >>> i) & 1;
      if (i === 0) t[2 * node + bit] = -(sym + 1);
      else {
        if (t[2 * node + bit] === 0) t[2 * node + bit] = next++;
        node = t[2 * node + bit]!;
      }
    }
  }
  return t;
})();

function anchorHuffman(src: Uint8Array, dst: Uint8Array): number {
  let node = 0;
  let p = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    for (let k = 7; k >= 0; k--) {
      const c = tree[2 * node + ((b >>> k) & 1)]!;
      if (c < 0) {
        const sym = -c - 1;
        if (sym === 256) return -1;
        dst[p++] = sym;
        node = 0;
      } else node = c;
    }
  }
  return p;
}

// ---------------------------------------------------------------- cases

export const cases: BenchCase[] = [
  defineCase({
    name: 'decode-static',
    unit: 'k sections/s',
    scale: 1e3,
    target: 0.5,
    description: 'QpackDecoder.decodeFieldSection on 9-field requests (static table + literals, no Huffman) vs a static-only hand loop',
    prepare() {
      const requests = makeRequests(1);
      const enc = new QpackEncoder({ huffman: false });
      const blocks = requests.map((fields, i) => enc.encodeFieldSection(4 * i, fields));
      const dec = new QpackDecoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
      return {
        ours: {
          items: blocks.length,
          run: () =>
            blocks.map((b, i) => {
              const r = dec.decodeFieldSection(4 * i, b);
              return r.kind === 'fields' ? r.fields : [];
            }),
        },
        anchor: { items: blocks.length, run: () => blocks.map(anchorDecode) },
        checksum: checksumFields,
        expected: checksumFields(requests),
      };
    },
  }),
  defineCase({
    name: 'encode-static',
    unit: 'k sections/s',
    scale: 1e3,
    target: 0.7,
    description: 'QpackEncoder.encodeFieldSection, no dynamic table, no Huffman, vs static-table lookups + writes into one buffer',
    prepare() {
      const requests = makeRequests(2);
      const enc = new QpackEncoder({ huffman: false });
      const scratch = new Uint8Array(4096);
      const sum = (blocks: Uint8Array[]): number => {
        const c = new Checksum();
        for (const b of blocks) c.addBytes(b);
        return c.value;
      };
      const expected = sum(requests.map((f) => scratch.slice(0, anchorEncode(f, scratch))));
      return {
        ours: { items: requests.length, run: () => requests.map((f, i) => enc.encodeFieldSection(4 * i, f)) },
        anchor: { items: requests.length, run: () => requests.map((f) => scratch.slice(0, anchorEncode(f, scratch))) },
        checksum: sum,
        expected,
      };
    },
  }),
  defineCase({
    name: 'huffman-decode',
    unit: 'MB/s',
    scale: 1e6,
    target: 2,
    description: 'huffmanDecode (nibble state table) vs a bit-by-bit code-tree walk, on header values',
    prepare() {
      const values = makeRequests(3).flatMap((s) => s.map((f) => new TextEncoder().encode(f.value)));
      const coded = values.map((v) => {
        const out = new Uint8Array(huffmanEncodedLength(v, 0, v.length));
        huffmanEncode(v, 0, v.length, out, 0);
        return out;
      });
      const bytes = coded.reduce((n, c) => n + c.length, 0);
      const dst = new Uint8Array(4096);
      const sum = (lens: number[]): number => {
        const c = new Checksum();
        for (const n of lens) c.add(n);
        return c.value;
      };
      return {
        ours: { items: bytes, run: () => coded.map((c) => huffmanDecode(c, 0, c.length, dst, 0)) },
        anchor: { items: bytes, run: () => coded.map((c) => anchorHuffman(c, dst)) },
        checksum: sum,
        expected: sum(values.map((v) => v.length)),
      };
    },
  }),
];
