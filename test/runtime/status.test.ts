// The runtime's `status` rendering: the header line every agent shares, the agent's lines only once it runs,
// the aligned tables and the drops by reason.

import { describe, expect, it } from 'vitest';
import { formatAgentStatus, formatDrops, formatDuration, statusTable, type AgentStatus } from '../../src/runtime/status.js';

interface Demo {
  readonly widgets: number;
}
const base = { agent: 'demo-agent', instance: null, pid: 42, uptimeSec: 3725, reloads: 1 };
const format = (s: { widgets: number }) => [`${s.widgets} widgets`];

describe('status rendering', () => {
  it('a running agent: the header, then its own lines indented', () => {
    const s: AgentStatus<Demo> = { ...base, lifecycle: 'running', drops: {}, ioErrors: {}, driver: { batches: 0, timeouts: 0, errors: 0 }, widgets: 3 };
    expect(formatAgentStatus(s, format)).toBe('demo-agent: running, pid 42, up 1h2m, 1 reload\n  3 widgets\n');
  });

  it('an agent still starting: the header only (its own fields do not exist yet), with the instance', () => {
    const s: AgentStatus<Demo> = { ...base, instance: 'lab1', reloads: 0, uptimeSec: 0, lifecycle: 'starting' };
    expect(formatAgentStatus(s, () => expect.fail('no body before start() returned'))).toBe('demo-agent (instance lab1): starting, pid 42, up 0s, 0 reloads\n');
  });

  it('tables align columns and right-align the last one (counts)', () => {
    expect(statusTable([['a', 'bbb', '1'], ['cccc', 'd', '100']])).toEqual(['a     bbb    1', 'cccc  d    100']);
  });

  it('drops: the total, then the reasons largest first (ties by name)', () => {
    expect(formatDrops({ 'b-reason': 2, 'a-reason': 2, 'c-reason': 5 })).toEqual(['dropped: 9', '  c-reason  5', '  a-reason  2', '  b-reason  2']);
    expect(formatDrops({})).toEqual(['dropped: 0 (none)']);
  });

  it.each([
    [0, '0s'],
    [59, '59s'],
    [60, '1m'],
    [3725, '1h2m'],
    [90_061, '1d1h'],
  ])('%i s is %s', (sec, text) => {
    expect(formatDuration(sec)).toBe(text);
  });
});
