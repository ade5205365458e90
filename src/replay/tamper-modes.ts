/**
 * The ways `replay fixture --tamper` breaks a delivery. Kept apart from the signing code so that
 * command definitions and completion can list them without loading jose.
 */
export const TAMPER_MODES = [
  'body',
  'signature',
  'timestamp-old',
  'timestamp-future',
  'missing-id',
  'missing-timestamp',
  'missing-signature',
] as const;

export type TamperMode = (typeof TAMPER_MODES)[number];
