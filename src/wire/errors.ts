// WireError: the only error a decoder may throw. Callers branch on `code`, never on message text.

export type WireErrorCode =
  | 'WIRE_TRUNCATED' // fewer bytes than a header or a length field says
  | 'WIRE_BAD_LENGTH' // a length field contradicts itself or the buffer
  | 'WIRE_BAD_VERSION' // e.g. IPv6 version nibble is not 6
  | 'WIRE_BAD_CHECKSUM'
  | 'WIRE_BAD_VALUE' // a field holds a value the format forbids
  | 'WIRE_BAD_ADDRESS' // an address string or field that cannot be parsed
  | 'WIRE_UNEXPECTED_TYPE'; // a well-formed message of a type the caller did not ask for

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function wireAssert(cond: boolean, code: WireErrorCode, message: string): asserts cond {
  if (!cond) throw new WireError(code, message);
}
