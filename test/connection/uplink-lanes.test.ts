import assert from 'node:assert/strict';
import { UplinkScheduler } from '../../src/connection/uplink-scheduler';
import type { PriorityUplink, RequestEntry, UplinkMessage } from '../../src/connection/uplink-types';

/**
 * The scheduler's lanes for a connection's own publishes (DESIGN.md §4 uplinkRate): a reply goes
 * before every post; a gateway's binding and login requests take turns with the posts while both
 * wait, so a sub-device already logged in does not wait for the binding of all the others.
 */

function noop(): void {}

let seq = 0;
function post(temp: number): RequestEntry {
  const id = String(++seq);
  return {
    id,
    kind: 'property-post',
    topic: 'property-post',
    payload: Buffer.from('{}'),
    qos: 1,
    waitReply: true,
    timeoutMs: 5000,
    createdAt: 0,
    resolve: noop,
    reject: noop,
    values: { temp: { value: temp } },
    seq,
    carriers: 0,
    waiting: false,
    done: false,
    timer: undefined,
  };
}

function scheduler(): UplinkScheduler {
  clock = 0;
  let id = 100;
  return new UplinkScheduler(
    1,
    {
      nextId: () => String(++id),
      topicOf: (kind) => kind,
      isExpired: () => false,
      expired: noop,
      unbuildable: (_, error) => assert.fail(error),
    },
    0,
  );
}

let clock = 0;
/**
 * What the scheduler sends in each of the next `slots` one-second slots: the name of a lane item, or
 * 'post:N' for a message carrying N posts.
 */
function sent(subject: UplinkScheduler, slots: number, names: Map<PriorityUplink, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < slots; i++) {
    clock += 1000;
    const next = subject.next(clock);
    if (!next) out.push('-');
    else if ('priority' in next) out.push(names.get(next.priority)!);
    else out.push(`post:${(next as { message: UplinkMessage }).message.members.length}`);
  }
  return out;
}

describe('connection / uplink scheduler lanes', function () {
  beforeEach(() => {
    clock = 0;
  });

  it('alternates shared publishes with posts while both wait, and sends a reply before either', () => {
    const subject = scheduler();
    const names = new Map<PriorityUplink, string>();
    // Spend the burst so that each later publish takes one slot.
    for (let i = 0; i < 3; i++) subject.addPriority({ send: noop, cancelled: false });
    for (let i = 0; i < 3; i++) assert.ok(subject.next(0));
    for (let i = 0; i < 4; i++) {
      const login: PriorityUplink = { send: noop, cancelled: false };
      names.set(login, `login${i}`);
      subject.addPriority(login, 'shared');
    }
    subject.add(post(1));
    const reply: PriorityUplink = { send: noop, cancelled: false };
    names.set(reply, 'reply');
    subject.addPriority(reply);
    assert.deepEqual(sent(subject, 3, names), ['reply', 'login0', 'post:1']);
    subject.add(post(2));
    subject.add(post(3));
    // Each waiting post takes every other slot; once none waits, the logins go back to back.
    assert.deepEqual(sent(subject, 5, names), ['login1', 'post:1', 'login2', 'post:1', 'login3']);
  });

  it('sends shared publishes back to back when no post waits', () => {
    const subject = scheduler();
    const names = new Map<PriorityUplink, string>();
    // Spend the burst so that each later publish takes one slot.
    for (let i = 0; i < 3; i++) subject.addPriority({ send: noop, cancelled: false });
    for (let i = 0; i < 3; i++) assert.ok(subject.next(0));
    for (let i = 0; i < 5; i++) {
      const login: PriorityUplink = { send: noop, cancelled: false };
      names.set(login, `login${i}`);
      subject.addPriority(login, 'shared');
    }
    assert.deepEqual(sent(subject, 3, names), ['login0', 'login1', 'login2']);
  });
});
