/**
 * Encoder -> decoder round trips under random table sizes, blocked-stream limits, chunking of the
 * encoder and decoder streams, and delivery order (the encoder stream delayed so that sections block,
 * streams cancelled midway). Whatever happens, every delivered section decodes to its input, the decoder
 * never sees more blocked streams than it allows (it would raise), the decoder stream never upsets the
 * encoder (it would raise), and once everything is delivered both tables agree and nothing is
 * outstanding.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { QpackDecoder, QpackEncoder, STATIC_TABLE, type HeaderField } from '../../../src/http3/qpack/index.js';

const staticField = fc.constantFrom(...STATIC_TABLE).map((x) => ({ name: x.name, value: x.value }));
const name = fc.oneof(
  fc.constantFrom(...STATIC_TABLE.map((x) => x.name)),
  fc.constantFrom('x-a', 'x-b', 'x-trace', 'cookie', 'authorization', 'content-length', 'x-\u00e9'),
  fc.string({ minLength: 0, maxLength: 12 }),
);
const value = fc.oneof(
  fc.constantFrom('', '1', 'value', 'www.example.com', 'gzip'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ minLength: 100, maxLength: 300 }),
);
const field: fc.Arbitrary<HeaderField> = fc.oneof(
  { weight: 2, arbitrary: staticField },
  { weight: 5, arbitrary: fc.record({ name, value }) },
  { weight: 1, arbitrary: fc.record({ name, value, sensitive: fc.constant(true) }) },
);
/** A small pool per run, so that fields repeat and the dynamic table gets used. */
const sections = fc.array(field, { minLength: 1, maxLength: 12 }).chain((pool) =>
  fc.array(
    fc.record({
      stream: fc.nat(5),
      fields: fc.array(
        fc.nat(pool.length - 1).map((i) => pool[i]!),
        { maxLength: 10 },
      ),
    }),
    { minLength: 1, maxLength: 25, size: 'max' },
  ),
);

/** Table capacities 0..4096, small ones often (so that entries get evicted). */
const capacity = fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 400 }));

type Action = 'encode' | 'encoderBytes' | 'section' | 'decoderBytes' | 'cancel';
const action = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Action>('encode') },
  { weight: 3, arbitrary: fc.constant<Action>('encoderBytes') },
  { weight: 4, arbitrary: fc.constant<Action>('section') },
  { weight: 3, arbitrary: fc.constant<Action>('decoderBytes') },
  { weight: 1, arbitrary: fc.constant<Action>('cancel') },
);

/** A byte pipe delivered in chunks of random sizes. */
class Pipe {
  private buf: number[] = [];
  push(b: Uint8Array | null): void {
    if (b !== null) for (const x of b) this.buf.push(x);
  }
  take(n: number): Uint8Array {
    return Uint8Array.from(this.buf.splice(0, n));
  }
  get length(): number {
    return this.buf.length;
  }
}

const plain = (fields: readonly HeaderField[]): Array<{ name: string; value: string }> =>
  fields.map((x) => ({ name: x.name, value: x.value }));

describe('QPACK round trip (property)', () => {
  it('random sections, capacities, blocked limits, chunking and delivery order', () => {
    // What the runs exercised, checked at the end so that the property cannot pass vacuously.
    const seen = { dynamicSections: 0, blocked: 0, unblocked: 0, cancelledBlocked: 0, evictions: 0 };
    fc.assert(
      fc.property(
        sections,
        capacity,
        capacity,
        fc.nat(3),
        fc.nat(6),
        fc.array(fc.tuple(action, fc.nat(11), fc.integer({ min: 1, max: 40 })), { maxLength: 120, size: 'max' }),
        fc.boolean(),
        (todo, decoderCap, encoderCap, blocked, settingsAfter, actions, huffman) => {
          const enc = new QpackEncoder({ maxTableCapacity: encoderCap, huffman });
          const dec = new QpackDecoder({ maxTableCapacity: decoderCap, maxBlockedStreams: blocked });
          const encoderPipe = new Pipe();
          const decoderPipe = new Pipe();
          /** Per stream: sections encoded, not delivered yet. */
          const inFlight = new Map<number, Array<{ section: Uint8Array; fields: readonly HeaderField[] }>>();
          /** Per stream: inputs delivered to the decoder, in order, whose result is still due. */
          const due = new Map<number, Array<readonly HeaderField[]>>();
          const cancelled = new Set<number>();
          let encoded = 0;
          let checked = 0;
          let settingsApplied = false;

          const check = (streamId: number, fields: readonly HeaderField[]): void => {
            const want = due.get(streamId)?.shift();
            assert.ok(want !== undefined, `unexpected section on stream ${streamId}`);
            assert.deepEqual(plain(fields), plain(want));
            want.forEach((w, i) => {
              if (w.sensitive === true) assert.equal(fields[i]!.sensitive, true, 'the N bit is kept');
            });
            checked++;
          };
          const collect = (): void => {
            for (const u of dec.takeUnblocked()) {
              seen.unblocked++;
              check(u.streamId, u.fields);
            }
            decoderPipe.push(dec.takeDecoderStreamData());
          };
          const applySettings = (): void => {
            if (!settingsApplied && encoded >= settingsAfter) {
              settingsApplied = true;
              enc.applyPeerSettings({ maxTableCapacity: decoderCap, blockedStreams: blocked });
            }
          };

          const step = (a: Action, pick: number, size: number): void => {
            switch (a) {
              case 'encode': {
                applySettings();
                const next = todo[encoded];
                if (next === undefined) return;
                encoded++;
                // A stream ID is not reused after a reset: later sections of that slot go to a new stream.
                let streamId = next.stream * 4;
                while (cancelled.has(streamId)) streamId += 400;
                const before = enc.tableSize;
                const inserts = enc.insertCount;
                const section = enc.encodeFieldSection(streamId, next.fields);
                if (section[0] !== 0) seen.dynamicSections++;
                // Each insert adds at least 32 bytes: a smaller growth means entries were evicted.
                if (enc.tableSize - before < 32 * (enc.insertCount - inserts)) seen.evictions++;
                encoderPipe.push(enc.takeEncoderStreamData());
                let list = inFlight.get(streamId);
                if (list === undefined) inFlight.set(streamId, (list = []));
                list.push({ section, fields: next.fields });
                return;
              }
              case 'encoderBytes':
                if (encoderPipe.length > 0) dec.receiveEncoderStream(encoderPipe.take(size));
                collect();
                return;
              case 'section': {
                const streams = [...inFlight.keys()].filter((s) => inFlight.get(s)!.length > 0);
                if (streams.length === 0) return;
                const streamId = streams[pick % streams.length]!;
                const s = inFlight.get(streamId)!.shift()!;
                let list = due.get(streamId);
                if (list === undefined) due.set(streamId, (list = []));
                list.push(s.fields);
                const r = dec.decodeFieldSection(streamId, s.section);
                if (r.kind === 'fields') check(streamId, r.fields);
                else seen.blocked++;
                collect();
                return;
              }
              case 'decoderBytes':
                collect();
                if (decoderPipe.length > 0) enc.receiveDecoderStream(decoderPipe.take(size));
                return;
              case 'cancel': {
                // A stream reset: whatever it still had in flight or blocked is dropped. Half the time pick a
                // stream with a blocked section.
                const blockedStreams = [...due.keys()].filter((s) => due.get(s)!.length > 0);
                const streams = pick % 2 === 0 && blockedStreams.length > 0 ? blockedStreams : [...inFlight.keys()];
                if (streams.length === 0) return;
                const streamId = streams[(pick >> 1) % streams.length]!;
                if ((due.get(streamId)?.length ?? 0) > 0) seen.cancelledBlocked++;
                dec.cancelStream(streamId);
                cancelled.add(streamId);
                inFlight.delete(streamId);
                due.delete(streamId);
                collect();
                return;
              }
            }
          };

          for (const [a, pick, size] of actions) step(a, pick, size);
          // Then deliver everything.
          while (encoded < todo.length) step('encode', 0, 1);
          applySettings();
          for (const streamId of [...inFlight.keys()]) {
            while ((inFlight.get(streamId)?.length ?? 0) > 0)
              step('section', [...inFlight.keys()].filter((s) => inFlight.get(s)!.length > 0).indexOf(streamId), 1);
          }
          for (let rounds = 0; rounds < 4; rounds++) {
            while (encoderPipe.length > 0) step('encoderBytes', 0, 1 + ((rounds * 7) % 13));
            collect();
            while (decoderPipe.length > 0) step('decoderBytes', 0, 3);
            encoderPipe.push(enc.takeEncoderStreamData());
          }
          for (const [streamId, list] of due) assert.equal(list.length, 0, `stream ${streamId} still has ${list.length} sections due`);
          assert.equal(dec.blockedStreamCount, 0);
          assert.equal(enc.outstandingSectionCount, 0);
          assert.equal(enc.blockingStreamCount, 0);
          assert.equal(dec.insertCount, enc.insertCount);
          assert.equal(enc.knownReceived, enc.insertCount);
          assert.equal(dec.tableSize, enc.tableSize);
          assert.ok(enc.tableSize <= Math.min(encoderCap, decoderCap));
          assert.ok(checked <= encoded);
        },
      ),
      { numRuns: 300 },
    );
    for (const [what, n] of Object.entries(seen)) assert.ok(n >= 5, `only ${n} runs/sections with ${what}`);
  });
});
