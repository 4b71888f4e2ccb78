// Is there a gateway to ask? One datagram per protocol, before the port-mapping library is loaded: the library
// (@achingbrain/nat-port-mapper with its SSDP, XML and logging dependencies) costs about 30 MiB of resident memory
// and 100-200 ms of start-up on Node 24, which a client behind a NAT without UPnP or NAT-PMP (most of the
// networks the agents run in: labs, containers, CGNAT) should not pay. So each mapper asks first, with the
// smallest message its protocol has, and loads the library only when something answered.
//
//   NAT-PMP  RFC 6886 §3.2: the 2-byte external-address request (version 0, opcode 0) to the default gateway's
//            port 5351; any datagram back from it counts (a gateway without NAT-PMP answers with ICMP port
//            unreachable, which ends the wait at once as ECONNREFUSED on the connected socket).
//   UPnP     UPnP Device Architecture 1.1 §1.3.2: an SSDP M-SEARCH for an InternetGatewayDevice to
//            239.255.255.250:1900; any unicast answer counts (the library then repeats the search and reads
//            the device description).
// Both resolve to false when the signal aborts first; neither throws.

import { createSocket, type Socket } from 'node:dgram';

/** RFC 6886 §1.1 / §3.2: the NAT-PMP server's port on the gateway, and the external-address request. */
const NATPMP_PORT = 5351;
const NATPMP_EXTERNAL_ADDRESS_REQUEST = new Uint8Array([0, 0]);

/** SSDP's multicast group and port (UPnP Device Architecture 1.1 §1.1.2). */
const SSDP_ADDRESS = '239.255.255.250';
const SSDP_PORT = 1900;
const IGD_SEARCH = [
  'M-SEARCH * HTTP/1.1',
  `HOST: ${SSDP_ADDRESS}:${SSDP_PORT}`,
  'MAN: "ssdp:discover"',
  'MX: 1',
  'ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1',
  '',
  '',
].join('\r\n');

/** Sends `message` from a fresh UDP socket and resolves true at the first datagram back, false on error or abort. */
function firstAnswer(message: Uint8Array | string, address: string, port: number, connect: boolean, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const socket: Socket = createSocket('udp4');
    const done = (answered: boolean): void => {
      signal.removeEventListener('abort', onAbort);
      socket.close();
      resolve(answered);
    };
    const onAbort = (): void => done(false);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('message', () => done(true));
    socket.once('error', () => done(false));
    const send = (): void => socket.send(message, (err) => void (err && done(false)));
    if (connect) socket.connect(port, address, send);
    else socket.bind(0, () => socket.send(message, port, address, (err) => void (err && done(false))));
  });
}

/** RFC 6886 §3.2: does the gateway (dotted IPv4) answer NAT-PMP? */
export function natPmpAnswers(gateway: string, signal: AbortSignal): Promise<boolean> {
  return firstAnswer(NATPMP_EXTERNAL_ADDRESS_REQUEST, gateway, NATPMP_PORT, true, signal);
}

/** Does any Internet Gateway Device answer an SSDP search on this host's networks? */
export function upnpIgdAnswers(signal: AbortSignal): Promise<boolean> {
  return firstAnswer(IGD_SEARCH, SSDP_ADDRESS, SSDP_PORT, false, signal);
}
