/**
 * The UEFI event queues at ExitBootServices: which orders of notify functions the
 * exploration produces, checked against the specification's rules written out by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explore, replay, sourceOrder, type Semantics, type Slot } from '../../../server/src/domains/firmware/sim/uefiEvents';

/** Records every action as `slot.action`; at the end emits the whole trace, so each order is one key. */
const tracing: Semantics<string[]> = {
  init: () => [],
  clone: (s) => [...s],
  key: (s) => s.join(' '),
  act: (s, slot, action) => {
    s.push(`${slot}.${action}`);
  },
  returned: (s, slot) => {
    s.push(`${slot}$`);
  },
  end: (s, emit) =>
    emit(
      s
        .filter((x) => x.endsWith('.0'))
        .map((x) => x.split('.')[0])
        .join(','),
    ),
};

const ebs = (tpl: Slot['tpl'], signals: (string | undefined)[] = [undefined]): Slot => ({ tpl, ebs: true, signals });
const on = (event: string, tpl: Slot['tpl'], signals: (string | undefined)[] = [undefined]): Slot => ({ tpl, ebs: false, event, signals });

function ordersOf(slots: Slot[]): string[] {
  const events = new Map<string, number[]>();
  slots.forEach((s, i) => {
    if (s.event) events.set(s.event, [...(events.get(s.event) ?? []), i]);
  });
  return [...explore(slots, events, tracing).verdicts.keys()].sort();
}

test('one TPL: every permutation, each in some orders only', () => {
  const slots = [ebs('callback'), ebs('callback'), ebs('callback'), ebs('callback')];
  const orders = ordersOf(slots);
  assert.equal(orders.length, 24);
  assert.equal(new Set(orders).size, 24);
  const x = explore(slots, new Map(), tracing);
  assert.ok([...x.verdicts.values()].every((v) => !v.every));
});

test('every TPL_NOTIFY function runs before every TPL_CALLBACK one', () => {
  assert.deepEqual(ordersOf([ebs('callback'), ebs('notify'), ebs('callback'), ebs('notify')]), [
    '1,3,0,2',
    '1,3,2,0',
    '3,1,0,2',
    '3,1,2,0',
  ]);
});

test('a signalled TPL_CALLBACK event runs behind every ExitBootServices function (IoMmuExitBoot)', () => {
  // 0 signals `late` (slot 3); 1 and 2 are other callback handlers.
  const orders = ordersOf([ebs('callback', ['late']), ebs('callback'), ebs('callback'), on('late', 'callback')]);
  assert.equal(orders.length, 6);
  assert.ok(
    orders.every((o) => o.endsWith(',3')),
    orders.join(' '),
  );
});

test('a TPL_NOTIFY event signalled from TPL_CALLBACK runs at once, before the signaller goes on', () => {
  const slots = [ebs('callback', ['now', undefined]), ebs('callback'), on('now', 'notify')];
  const events = new Map([['now', [2]]]);
  const seen = new Set<string>();
  const x = explore(slots, events, { ...tracing, end: (s, emit) => emit(s.join(' ')) });
  for (const k of x.verdicts.keys()) seen.add(k);
  // Whenever 0 runs, 2 runs between its first and second action.
  for (const t of seen) assert.match(t, /0\.0 2\.0 2\$ 0\.1/);
  assert.equal(seen.size, 2);
});

test('a TPL_CALLBACK event signalled from TPL_NOTIFY runs after all ExitBootServices callbacks', () => {
  const orders = ordersOf([ebs('notify', ['late']), ebs('callback'), ebs('callback'), on('late', 'callback')]);
  assert.deepEqual(orders, ['0,1,2,3', '0,2,1,3']);
});

test('an event that is pending is not queued twice; several handlers of one event are unordered', () => {
  const orders = ordersOf([ebs('callback', ['e']), ebs('callback', ['e']), on('e', 'callback'), on('e', 'callback')]);
  // 0 and 1 in either order, then 2 and 3 (queued once) in either order.
  assert.deepEqual(orders, ['0,1,2,3', '0,1,3,2', '1,0,2,3', '1,0,3,2']);
});

test('the order of signalled events follows the order of their signallers', () => {
  const orders = ordersOf([ebs('callback', ['a']), ebs('callback', ['b']), on('a', 'callback'), on('b', 'callback')]);
  assert.deepEqual(orders, ['0,1,2,3', '1,0,3,2']);
});

test('memoised states: n unordered functions that only count cost about 2^n states, not n!', () => {
  const counting: Semantics<number[]> = {
    init: () => [0],
    clone: (s) => [...s],
    key: (s) => String(s[0]),
    act: (s) => {
      s[0]!++;
    },
    returned: () => {},
    end: (s, emit) => emit(`ran ${s[0]}`),
  };
  const slots = Array.from({ length: 10 }, () => ebs('callback'));
  const x = explore(slots, new Map(), counting);
  assert.deepEqual([...x.verdicts.entries()], [['ran 10', { every: true, order: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }]]);
  assert.ok(x.states <= 2 ** 10, `${x.states} states`);
  assert.ok(!x.truncated);
});

test('independent functions are run without branching; verdicts are the same', () => {
  const slots = [ebs('callback'), ebs('callback'), ebs('callback')];
  const keyed: Semantics<string[]> = { ...tracing, end: (_s, emit) => emit('done') };
  const full = explore(slots, new Map(), keyed);
  const reduced = explore(slots, new Map(), keyed, { independent: [true, true, true] });
  assert.deepEqual([...reduced.verdicts.keys()], [...full.verdicts.keys()]);
  assert.equal(reduced.states, 0);
  assert.ok(full.states > 0);
});

test('a search over its bound says so and reports one order', () => {
  const slots = Array.from({ length: 8 }, () => ebs('callback'));
  const x = explore(slots, new Map(), tracing, { maxStates: 50 });
  assert.ok(x.truncated);
  assert.equal(x.verdicts.size, 1);
  assert.deepEqual([...x.verdicts.values()][0], { every: false, order: [0, 1, 2, 3, 4, 5, 6, 7] });
});

test('problems found on one path share one witness array, not a copy each', () => {
  // A handler with three actions, each a problem, and another handler: every problem is
  // first found on the order 0, 1, and a run emitting thousands of them copies it once.
  const emitting: Semantics<string[]> = {
    ...tracing,
    act: (s, slot, action, emit) => {
      s.push(`${slot}.${action}`);
      emit(`${slot}.${action}`);
    },
  };
  const x = explore([ebs('callback', [undefined, undefined, undefined]), ebs('callback')], new Map(), emitting);
  assert.deepEqual([...x.verdicts.keys()].sort(), ['0,1', '0.0', '0.1', '0.2', '1,0', '1.0']);
  const orders = new Set([...x.verdicts].filter(([k]) => k.includes('.')).map(([, v]) => v.order));
  assert.equal(orders.size, 1);
  assert.deepEqual([...orders][0], [0, 1]);
});

test('the source order records every step; replaying a subset reads back its steps in that order', () => {
  // 3 signals `now` (TPL_NOTIFY, slot 4) from TPL_CALLBACK: 4 runs between 3's two actions.
  const slots = [ebs('callback'), ebs('callback'), ebs('notify'), ebs('callback', ['now', undefined]), on('now', 'notify')];
  const steps = sourceOrder(slots, new Map([['now', [4]]]));
  // 2 first (TPL_NOTIFY), then 0, 1, 3 in source order; each slot: its actions, then its return.
  assert.deepEqual(steps, [
    [2, 3],
    [4, 5],
    [0, 1],
    [6, 9, 10],
    [7, 8],
  ]);
  const x = replay(
    steps,
    [
      { index: 3, kept: [0, 1] },
      { index: 4, kept: [0] },
    ],
    { ...tracing, end: (s, emit) => emit(s.join(' ')) },
  );
  assert.deepEqual([...x.verdicts.entries()], [['0.0 1.0 1$ 0.1 0$', { every: false, order: [0, 1] }]]);
  assert.ok(x.truncated);
});
