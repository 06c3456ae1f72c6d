/** Where a registration toward a carrier stands, for the health display. */
export enum RegistrationState {
  Unregistered = 'unregistered',
  Registering = 'registering',
  Registered = 'registered',
  /** The last attempt failed; another is scheduled (see nextAttemptAt). */
  Failed = 'failed',
  Unregistering = 'unregistering',
}
