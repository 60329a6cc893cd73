import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TurnEnd } from '../src/socketio/turn-end.js';

describe('the end of an event-loop turn', () => {
  test('emits run before flushes, and work added meanwhile runs in the same pass', async () => {
    const order: string[] = [];
    const turnEnd = new TurnEnd();
    const atTurnEnd: TurnEnd['at'] = (stage, task) => turnEnd.at(stage, task);
    await new Promise<void>((resolve) => {
      atTurnEnd('flush', () => order.push('flush 1'));
      atTurnEnd('emit', () => {
        order.push('emit 1');
        // A flush added by an emit (a corked socket written to) ends in this pass.
        atTurnEnd('flush', () => order.push('flush 2'));
      });
      atTurnEnd('flush', () => {
        order.push('flush 3');
        // An emit added by a flush runs before the pass ends, then its own flush.
        atTurnEnd('emit', () => {
          order.push('emit 2');
          atTurnEnd('flush', () => order.push('flush 4'));
        });
      });
      // Queued before the turn ends: runs after this turn's pass.
      setImmediate(() => {
        order.push('next immediate');
        resolve();
      });
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [
      'emit 1',
      'flush 1',
      'flush 3',
      'flush 2',
      'emit 2',
      'flush 4',
      'next immediate',
    ]);
  });
});
