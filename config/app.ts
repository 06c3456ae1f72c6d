import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/core/http'
import { compileProxyTrust, parseTrustedProxies } from '#core/proxy_trust'
import { assertSecureAppUrl } from '#core/secure_app_url'

export const appUrl = env.get('APP_URL')
assertSecureAppUrl(appUrl, app.inProduction)

const trustedProxies = parseTrustedProxies(env.get('TRUSTED_PROXIES'))

export const http = defineConfig({
  generateRequestId: true,
  allowMethodSpoofing: true,
  useAsyncLocalStorage: false,
  // Only the configured TLS proxies may set X-Forwarded-For; everyone else is seen as the socket peer.
  trustProxy: compileProxyTrust(trustedProxies),
  cookie: {
    domain: '',
    path: '/',
    maxAge: '2h',
    httpOnly: true,
    secure: app.inProduction,
    sameSite: 'lax',
  },
})
