import app from '@adonisjs/core/services/app'
import { defineConfig } from '@adonisjs/shield'

const shieldConfig = defineConfig({
  // Strict CSP: only our own origin; Vite's dev server is allowed through @viteUrl in development.
  csp: {
    enabled: true,
    directives: {
      defaultSrc: [`'self'`],
      scriptSrc: [`'self'`, '@viteUrl', '@nonce'],
      styleSrc: [`'self'`, '@viteUrl', '@nonce'],
      imgSrc: [`'self'`, 'data:'],
      connectSrc: [`'self'`, 'ws:', 'wss:'],
      mediaSrc: [`'self'`, 'blob:'],
      objectSrc: [`'none'`],
      baseUri: [`'self'`],
      formAction: [`'self'`],
      frameAncestors: [`'none'`],
    },
    reportOnly: false,
  },
  csrf: {
    enabled: true,
    exceptRoutes: [],
    enableXsrfCookie: false,
    methods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  },
  xFrame: { enabled: true, action: 'DENY' },
  hsts: { enabled: app.inProduction, maxAge: '180 days', includeSubDomains: true },
  contentTypeSniffing: { enabled: true },
})

export default shieldConfig
