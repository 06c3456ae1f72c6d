/** The dialog ID of RFC 3261 12: Call-ID with the local and remote tags, as a map key. */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\n${localTag}\n${remoteTag}`
}
