/**
 * How long to wait before retrying a re-INVITE or UPDATE that got 491 (RFC 3261 14.1, RFC 3311
 * 5.2): the owner of the Call-ID (the dialog's original caller) waits 2.1 to 4 s, the other side
 * 0 to 2 s, in units of 10 ms, so that the two retries do not collide again.
 */
export function glareRetryDelay(ownsCallId: boolean, random: () => number): number {
  return ownsCallId ? 2100 + Math.floor(random() * 191) * 10 : Math.floor(random() * 201) * 10
}
