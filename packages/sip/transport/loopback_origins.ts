const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]']

/**
 * The web phone's own origin, and outside production its loopback aliases: a developer who opens
 * http://127.0.0.1:3333 instead of http://localhost:3333 reaches the same server and should get a
 * working phone. In production only the configured origin counts.
 */
export function webPhoneOrigins(appUrl: string, production: boolean): string[] {
  const url = new URL(appUrl)
  if (production || !LOOPBACK_HOSTS.includes(url.hostname)) return [url.origin]
  const port = url.port ? `:${url.port}` : ''
  return [
    url.origin,
    ...LOOPBACK_HOSTS.map((host) => `${url.protocol}//${host}${port}`).filter(
      (origin) => origin !== url.origin
    ),
  ]
}
