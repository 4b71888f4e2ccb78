// RFC 6887 §8.5's validity test of the server's Epoch Time, with the RFC's numbers written out: up to 1 s back is
// reordering, more is a restart; otherwise the server's and the client's elapsed times must agree within 2 s plus
// a sixteenth (integer arithmetic on whole seconds). And the record of the previous response (PcpEpoch).

import { describe, expect, it } from 'vitest';
import { pcpEpochValid } from '../../src/wire/pcp-epoch.js';
import { PcpEpoch } from '../../src/io/port-mapper-pcp.js';

describe('§8.5 epoch validity', () => {
  it('time going backwards: 1 s is reordering, 2 s is a restart', () => {
    expect(pcpEpochValid(1000, 999, 0)).toBe(true);
    expect(pcpEpochValid(1000, 998, 0)).toBe(false);
    // A restart: the server's epoch starts again at 0.
    expect(pcpEpochValid(1000, 0, 5)).toBe(false);
  });

  it('the server ran faster than the client: invalid when client_delta + 2 < server_delta - server_delta/16', () => {
    // client 10 s: server 12 s is 12 < 12 - 0 = false -> valid; 13 s: 12 < 13 -> invalid.
    expect(pcpEpochValid(1000, 1012, 10)).toBe(true);
    expect(pcpEpochValid(1000, 1013, 10)).toBe(false);
    // client 100 s: 102 < 110 - 6 = 104 -> invalid at 110; 106 - 6 = 100 -> valid at 106.
    expect(pcpEpochValid(1000, 1106, 100)).toBe(true);
    expect(pcpEpochValid(1000, 1110, 100)).toBe(false);
  });

  it('the server ran slower than the client (a restart long enough ago): invalid when server_delta + 2 < client_delta - client_delta/16', () => {
    // client 100 s: server 92 s: 94 < 100 - 6 = 94 is false -> valid; 91 s: 93 < 94 -> invalid.
    expect(pcpEpochValid(1000, 1092, 100)).toBe(true);
    expect(pcpEpochValid(1000, 1091, 100)).toBe(false);
    // Epoch 0 again 3 s later (the lab's miniupnpd restarted): 0 + 2 < 3 - 0 -> invalid; 2 s later: valid (the slack).
    expect(pcpEpochValid(0, 0, 3)).toBe(false);
    expect(pcpEpochValid(0, 0, 2)).toBe(true);
  });

  it('PcpEpoch: the first response is valid; each one is compared with the one before, the client clock in ms', () => {
    const e = new PcpEpoch();
    expect(e.observe(1000, 50_000)).toBe(true);
    expect(e.observe(1010, 60_000)).toBe(true);
    // The server restarted 8 s ago: epoch 8 where 1030 was due.
    expect(e.observe(8, 80_000)).toBe(false);
    // Recorded: the next answer is compared with the restart's epoch.
    expect(e.observe(18, 90_500)).toBe(true);
    // 1999 ms count as 1 s (the RFC's client time is in whole seconds): 4 s on the server is too fast.
    expect(e.observe(22, 92_499)).toBe(false);
  });
});
