/** RFC 4028 settings of a user agent, in seconds. */
export interface SessionTimerConfig {
  enabled: boolean
  /** The interval we ask for in our INVITEs and grant when the peer asks for none. */
  sessionExpires: number
  /** The smallest interval we accept; below it a request gets 422 (RFC 4028 8). */
  minSE: number
}

/** RFC 4028 4 recommends 1800 s; 90 s is the smallest Min-SE it allows. */
export const DEFAULT_SESSION_TIMER: Readonly<SessionTimerConfig> = Object.freeze({
  enabled: true,
  sessionExpires: 1800,
  minSE: 90,
})
