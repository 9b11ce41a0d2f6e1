import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Decoder, END, NEED_READ, Source, UsageError, bytes, line, parse, u16be, u32be, u8 } from '../../src/combinators/index.js';
import { isParseError } from '../support/combinators.js';
import { ascii, hex } from '../support/bytes.js';

describe('Source', () => {
  it('starts empty, open, with a 16 MiB default cap', () => {
    const s = new Source();
    assert.equal(s.maxBuffered, 16 * 1024 * 1024);
    assert.equal(s.buffered, 0);
    assert.equal(s.position, 0);
    assert.equal(s.ended, false);
    assert.equal(s.atEnd, false);
    assert.equal(s.remainingInRegion, Infinity);
  });

  it('counts fed and consumed bytes; empty chunks change nothing', () => {
    const s = new Source();
    s.feed(hex('0102'));
    s.feed(new Uint8Array(0));
    s.feed(hex('030405'));
    assert.equal(s.buffered, 5);
    assert.equal(s.available, 5);
    const d = new Decoder(u32be, s);
    assert.equal(d.read(), 0x01020304);
    assert.equal(s.position, 4);
    assert.equal(s.buffered, 1);
    assert.equal(d.read(), NEED_READ);
    assert.equal(s.position, 4, 'a stalled read consumes nothing');
  });

  it('refuses feed() after end() with ERR_USAGE', () => {
    const s = new Source();
    s.feed(hex('01'));
    s.end();
    assert.equal(s.ended, true);
    assert.throws(
      () => s.feed(hex('02')),
      (e: unknown) => e instanceof UsageError && e.code === 'ERR_USAGE',
    );
    assert.equal(s.buffered, 1);
  });

  it('Source.complete holds the bytes and is already ended', () => {
    const s = Source.complete(hex('0a0b'));
    assert.equal(s.ended, true);
    assert.equal(s.buffered, 2);
    assert.equal(s.atEnd, false);
    assert.deepStrictEqual(s.takeRest(), hex('0a0b'));
    assert.equal(s.atEnd, true);
  });

  describe('maxBuffered', () => {
    it('raises ERR_BUFFER_LIMIT at the offset of the refused chunk and keeps what it had', () => {
      const s = new Source({ maxBuffered: 8 });
      s.feed(new Uint8Array(5));
      s.feed(new Uint8Array(3)); // exactly at the cap is fine
      assert.throws(() => s.feed(new Uint8Array(1)), isParseError('ERR_BUFFER_LIMIT', 8));
      assert.equal(s.buffered, 8);
      // Consuming makes room again.
      const d = new Decoder(u32be, s);
      assert.equal(d.read(), 0);
      s.feed(hex('01020304'));
      assert.equal(s.buffered, 8);
    });

    it('counts only unconsumed bytes: a long stream through a small cap never fails', () => {
      const d = new Decoder(u16be, { maxBuffered: 16 });
      let n = 0;
      for (let i = 0; i < 2000; i++) {
        d.feed(Uint8Array.of(i >> 8, i & 0xff, 0, 1, 0x12));
        for (let v = d.read(); v !== NEED_READ; v = d.read()) {
          assert.notEqual(v, END);
          n++;
        }
        assert.ok(d.source.buffered <= 1);
      }
      assert.equal(n, Math.floor((2000 * 5) / 2));
    });
  });

  it('keeps `buffered` equal to the unconsumed count while many chunks are fed and consumed', () => {
    const d = new Decoder(u32be);
    let fed = 0;
    let consumed = 0;
    for (let i = 0; i < 3000; i++) {
      const chunk = new Uint8Array(1 + (i % 7)).fill(i & 0xff);
      d.feed(chunk);
      fed += chunk.length;
      if (i % 3 === 0) {
        for (let v = d.read(); v !== NEED_READ; v = d.read()) consumed += 4;
      }
      assert.equal(d.source.buffered, fed - consumed);
      assert.equal(d.source.position, consumed);
    }
  });

  it('releases consumed chunks so they can be garbage-collected', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const d = new Decoder(bytes(100));
    const refs: WeakRef<Uint8Array>[] = [];
    const feedChunks = (): void => {
      for (let i = 0; i < 50; i++) {
        const c = new Uint8Array(1000).fill(i);
        refs.push(new WeakRef(c));
        d.feed(c);
      }
    };
    feedChunks();
    // Consume 49.5 chunks, dropping the values (views) at once.
    for (let i = 0; i < 495; i++) assert.ok(d.read() instanceof Uint8Array);
    assert.equal(d.source.buffered, 500);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const alive = refs.map((r) => r.deref() !== undefined);
    assert.deepStrictEqual(
      alive.slice(0, 49).filter((x) => x),
      [],
      'every fully consumed chunk was released',
    );
    assert.equal(alive[49], true, 'the current chunk is still held');
  });

  it('takeRest returns the unconsumed bytes across chunks and consumes them', () => {
    const d = new Decoder(u8);
    d.feed(hex('01 02'));
    d.feed(hex('03'));
    d.feed(hex('04 05'));
    assert.equal(d.read(), 1);
    assert.deepStrictEqual(d.source.takeRest(), hex('02030405'));
    assert.equal(d.source.buffered, 0);
    assert.equal(d.source.position, 5);
    assert.equal(d.read(), NEED_READ);
    assert.deepStrictEqual(d.source.takeRest(), new Uint8Array(0));
  });

  it('hands the bytes after one protocol, untouched, to the next parser on the same Source', () => {
    // A text line, then binary records: the line parser must not read past its CRLF.
    const s = new Source();
    const head = new Decoder(line(), s);
    s.feed(ascii('UPGRADE\r\n'));
    s.feed(hex('0001 0002 00'));
    assert.deepStrictEqual(head.read(), ascii('UPGRADE'));
    const body = new Decoder(u16be, s);
    assert.equal(body.read(), 1);
    assert.equal(body.read(), 2);
    assert.equal(body.read(), NEED_READ);
    assert.deepStrictEqual(s.takeRest(), hex('00'));
  });

  it('atEnd and END: an ended Source used up exactly at a value boundary', () => {
    const d = new Decoder(u16be);
    d.feed(hex('0102'));
    d.end();
    assert.equal(d.source.atEnd, false);
    assert.equal(d.read(), 0x0102);
    assert.equal(d.source.atEnd, true);
    assert.equal(d.read(), END);
    assert.equal(d.read(), END);
  });

  it('complete mode over an empty input', () => {
    assert.throws(() => parse(u8, new Uint8Array(0)), isParseError('ERR_UNEXPECTED_END', 0));
    assert.equal(Source.complete(new Uint8Array(0)).atEnd, true);
  });
});

describe('Source.resetComplete', () => {
  it('reuses a Source for complete mode over new bytes, forgetting everything it held', () => {
    const s = new Source();
    s.feed(hex('0102'));
    s.feed(hex('0304'));
    assert.equal(u8.readFast(s), 1);
    s.resetComplete(hex('0a0b0c'));
    assert.equal(s.position, 0);
    assert.equal(s.buffered, 3);
    assert.equal(s.ended, true);
    assert.equal(u16be.readFast(s), 0x0a0b);
    assert.equal(u8.readFast(s), 0x0c);
    assert.throws(() => u8.readFast(s), isParseError('ERR_UNEXPECTED_END', 3));
  });

  it('forgets a resumed separator scan (internal indexOf state keyed on positions that restart at 0)', () => {
    const s = new Source();
    s.feed(hex('010203'));
    s.feed(hex('040506'));
    s.feed(hex('070809'));
    assert.equal(s.indexOf(hex('09'), 7, 100), 8);
    s.resetComplete(hex('000000000000000009'));
    assert.equal(s.indexOf(hex('09'), 7, 100), 8);
  });
});
