// The listener's reverse DNS cache (agents/rasadv/reverse-dns.ts) with a fake resolver and FakeClock: cache
// hits, failures cached for a shorter time, the timeout, one lookup per address, the in-flight and waiting
// bounds, LRU eviction and TTL refresh.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { ReverseNames, type ReverseResolver } from '../../agents/rasadv/reverse-dns.js';

/** A resolver whose answers the test gives: answer(ip, names) resolves, answer(ip, error) rejects. */
function fakeResolver() {
  const asked: string[] = [];
  const open = new Map<string, { resolve: (n: string[]) => void; reject: (e: Error) => void }>();
  const resolver: ReverseResolver = {
    reverse: (ip) => {
      asked.push(ip);
      return new Promise((resolve, reject) => open.set(ip, { resolve, reject }));
    },
  };
  const answer = async (ip: string, result: string[] | Error) => {
    const o = open.get(ip)!;
    open.delete(ip);
    if (result instanceof Error) o.reject(result);
    else o.resolve(result);
    await new Promise((r) => setImmediate(r)); // let the promise callbacks run
  };
  return { resolver, asked, answer };
}

function setup(bounds: ConstructorParameters<typeof ReverseNames>[3] = {}) {
  const clock = new FakeClock(0);
  const dns = fakeResolver();
  const names = new ReverseNames(dns.resolver, clock, clock, bounds);
  const got: [string, string | null][] = [];
  const ask = (ip: string, tag = ip) => names.withName(ip, (n) => got.push([tag, n]));
  return { clock, names, got, ask, ...dns };
}

describe('rasadv reverse DNS names', () => {
  it('answers waiting callers in order when the lookup settles, then from the cache without asking again', async () => {
    const { ask, got, asked, answer, names } = setup();
    ask('192.0.2.1', 'a');
    ask('192.0.2.1', 'b');
    expect(got).toEqual([]);
    await answer('192.0.2.1', ['host.example.com.', 'alias.example.com']);
    expect(got).toEqual([['a', 'host.example.com'], ['b', 'host.example.com']]);
    ask('192.0.2.1', 'c');
    expect(got.at(-1)).toEqual(['c', 'host.example.com']);
    expect(asked).toEqual(['192.0.2.1']);
    expect(names.stats()).toMatchObject({ lookups: 1, found: 1, inFlight: 0, cached: 1 });
  });

  it('caches a failure for 5 minutes and a name for an hour, then looks up again', async () => {
    const { ask, got, asked, answer, clock, names } = setup();
    ask('192.0.2.1');
    await answer('192.0.2.1', Object.assign(new Error('queryPtr ENOTFOUND'), { code: 'ENOTFOUND' }));
    expect(got).toEqual([['192.0.2.1', null]]);
    clock.advance(299_999);
    ask('192.0.2.1');
    expect(got.at(-1)).toEqual(['192.0.2.1', null]);
    expect(asked).toHaveLength(1);
    clock.advance(1);
    ask('192.0.2.1');
    expect(asked).toHaveLength(2);
    await answer('192.0.2.1', ['new.example.com']);
    expect(got.at(-1)).toEqual(['192.0.2.1', 'new.example.com']);
    clock.advance(3_599_999);
    expect(names.peek('192.0.2.1')).toBe('new.example.com');
    clock.advance(1);
    expect(names.peek('192.0.2.1')).toBeUndefined();
  });

  it('gives up after 2 s (a cached failure), and a late answer still fills the cache', async () => {
    const { ask, got, asked, answer, clock, names } = setup();
    ask('192.0.2.1');
    clock.advance(1_999);
    expect(got).toEqual([]);
    clock.advance(1);
    expect(got).toEqual([['192.0.2.1', null]]);
    ask('192.0.2.1'); // failure cached: no second query while the first is still out
    expect(asked).toHaveLength(1);
    await answer('192.0.2.1', ['late.example.com']);
    expect(names.peek('192.0.2.1')).toBe('late.example.com');
    expect(names.stats()).toMatchObject({ timedOut: 1, found: 1, inFlight: 0 });
  });

  it('starts at most MAX_IN_FLIGHT lookups, counting those past their timeout until they settle', async () => {
    const { ask, got, asked, answer, clock, names } = setup({ MAX_IN_FLIGHT: 2 });
    ask('10.0.0.1');
    ask('10.0.0.2');
    ask('10.0.0.3');
    expect(asked).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(got).toEqual([['10.0.0.3', null]]); // skipped: answered at once, nothing cached
    expect(names.peek('10.0.0.3')).toBeUndefined();
    clock.advance(2_000); // timed out, but the queries are still out
    ask('10.0.0.4');
    expect(asked).toHaveLength(2);
    await answer('10.0.0.1', []);
    ask('10.0.0.4');
    expect(asked).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4']);
    expect(names.stats()).toMatchObject({ skipped: 2, inFlight: 2 });
  });

  it('past MAX_WAITING callers, answers that address\'s waiters at once, in order', () => {
    const { ask, got } = setup({ MAX_WAITING: 3 });
    for (const tag of ['a', 'b', 'c', 'd']) ask('192.0.2.1', tag);
    expect(got).toEqual([['a', null], ['b', null], ['c', null], ['d', null]]);
  });

  it('keeps at most MAX_ENTRIES addresses, forgetting the least recently used', async () => {
    const { ask, answer, names } = setup({ MAX_ENTRIES: 2 });
    for (const ip of ['10.0.0.1', '10.0.0.2']) {
      ask(ip);
      await answer(ip, [`h${ip.slice(-1)}`]);
    }
    ask('10.0.0.1'); // a hit makes 10.0.0.1 the most recently used
    ask('10.0.0.3');
    await answer('10.0.0.3', ['h3']);
    expect([names.peek('10.0.0.1'), names.peek('10.0.0.2'), names.peek('10.0.0.3')]).toEqual(['h1', undefined, 'h3']);
  });

  it('refuses names with control characters or spaces, and stop answers the waiters', async () => {
    const { ask, got, answer, names } = setup();
    ask('10.0.0.1');
    await answer('10.0.0.1', ['evil\x1b[2J.example', 'has space.example']);
    expect(got).toEqual([['10.0.0.1', null]]);
    ask('10.0.0.2');
    names.stop();
    expect(got.at(-1)).toEqual(['10.0.0.2', null]);
  });
});
