/**
 * Whether the SIP WebSocket accepts this page's origin: `allowed` is the space-separated list the
 * server renders (config/sip.ts ws.allowedOrigins). An empty list means the server did not say.
 */
export function originAllowed(origin: string, allowed: string): boolean {
  const origins = allowed.split(' ').filter(Boolean)
  return origins.length === 0 || origins.includes(origin)
}
