/**
 * In production the pages, and with them the web phone's SIP WebSocket on the same origin, are
 * reached only over TLS (HTTPS, WSS): an APP_URL that is not https:// stops the boot. The TOMs
 * page promises it.
 */
export function assertSecureAppUrl(url: string, production: boolean) {
  if (production && new URL(url).protocol !== 'https:')
    throw new Error(
      `APP_URL must be an https:// address in production (got ${new URL(url).origin}): the pages and the web phone are served only over TLS`
    )
}
