// The PCP server's epoch (RFC 6887 §8.5): every response carries the server's Epoch Time, seconds since it last
// lost its mapping state (restart, reboot, a new external address). A client keeps the Epoch Time of the previous
// response and its own clock at that moment; a new response whose epoch does not follow the client's elapsed time
// (gone back more than 1 s, or run faster or slower than the client's clock beyond the RFC's slack) tells that
// the server lost its state, and with it the client's mappings, which the client then renews at once (§8.5,
// §11.2.1). The test alone, pure; the client's record of the previous response is src/io/port-mapper-pcp.ts's.
//
// The RFC's arithmetic is on whole seconds with integer division; client_delta here is the client's elapsed
// time in whole seconds (truncated), which the test's slack of 2 s covers. The 32-bit epoch's wrap (after 136
// years) is not handled.

/**
 * §8.5's validity test of a response's Epoch Time against the previous response's. `prevServerSec` and
 * `currServerSec`: the two Epoch Time fields (uint32 seconds); `clientDeltaSec`: whole seconds the client's clock
 * ran between the two responses (>= 0). False: the server lost its state.
 */
export function pcpEpochValid(prevServerSec: number, currServerSec: number, clientDeltaSec: number): boolean {
  // "Time should not go backwards", but up to 1 s back is reordering, not a restart.
  if (currServerSec + 1 < prevServerSec) return false;
  const serverDelta = currServerSec - prevServerSec;
  // The 2 allows for both clocks' 1 s resolution, the sixteenth for clocks up to 6.25 % apart.
  return !(clientDeltaSec + 2 < serverDelta - Math.trunc(serverDelta / 16) || serverDelta + 2 < clientDeltaSec - Math.trunc(clientDeltaSec / 16));
}
