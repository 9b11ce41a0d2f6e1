/** The README's "write your own mini-protocol" example, run as written (plus a peer that drives it). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { line } from '../../src/combinators/index.js';
import { Session, encodeLengthRecord, lengthRecords, phase, runOnBytes, type RecordEvent } from '../../src/miniproto/index.js';
import { ascii, concat } from '../support/bytes.js';

it('README example: a line greeting, then length-prefixed records, on one Source', () => {
  // ---- the README example ----
  type Event = { type: 'greeting'; text: string } | RecordEvent;
  const records = lengthRecords<Event>({ prefix: 'u16be', max: 64 * 1024 }); // length-delimited records
  const hello = phase<Event>('hello', function* (io) {
    yield* io.write(new TextEncoder().encode('HELLO 1\r\n')); // need-write
    const l = yield* io.read(line({ max: 512 })); // need-read until the whole line is in
    yield* io.emit({ type: 'greeting', text: new TextDecoder().decode(l) }); // an event for the app
    return records; // switch phase: bytes after the line stay in the Source for `records`
  });
  const session = new Session(hello, { maxBuffered: 1 << 20 });
  // ---- end of the example; a driver: runSync / runOnBytes, attachDuplex (Node), runWebStreams ----

  const input = concat(ascii('WELCOME\r\n'), encodeLengthRecord('u16be', ascii('one')), encodeLengthRecord('u16be', ascii('two')));
  const { events, written, result } = runOnBytes(session, input, { chunk: 5 });
  assert.deepEqual(result, { type: 'done' });
  assert.deepEqual(written, [ascii('HELLO 1\r\n')]);
  assert.deepEqual(
    events.map((e) => (e.type === 'greeting' ? e.text : new TextDecoder().decode(e.data))),
    ['WELCOME', 'one', 'two'],
  );
});
