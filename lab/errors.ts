// Errors the lab raises, with stable codes (undici style) so the CLI maps them to messages and exit codes.

export type LabErrorCode =
  | 'LAB_NOT_ROOT'
  | 'LAB_MISSING_TOOL'
  | 'LAB_BAD_ARGUMENT'
  | 'LAB_COMMAND_FAILED'
  | 'LAB_NOT_FOUND'
  | 'LAB_AMBIGUOUS'
  | 'LAB_NO_FREE_ID'
  | 'LAB_TIMEOUT'
  | 'LAB_OCCUPANT_FAILED'
  | 'LAB_OCCUPANT_UNAVAILABLE';

export class LabError extends Error {
  constructor(
    readonly code: LabErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
}
