import { defineConfig } from '@adonisjs/core/app'

export default defineConfig({
  experimental: {},

  commands: [
    () => import('@adonisjs/core/commands'),
    () => import('@adonisjs/lucid/commands'),
    () => import('@adonisjs/session/commands'),
    () => import('@adonisjs/mail/commands'),
  ],

  providers: [
    () => import('@adonisjs/core/providers/app_provider'),
    () => import('@adonisjs/core/providers/hash_provider'),
    // First of ours: it shuts down last, so its stop line is the process's last word.
    { file: () => import('#providers/lifecycle_provider'), environment: ['web'] },
    {
      file: () => import('@adonisjs/core/providers/repl_provider'),
      environment: ['repl', 'test'],
    },
    () => import('@adonisjs/core/providers/vinejs_provider'),
    () => import('@adonisjs/core/providers/edge_provider'),
    () => import('@adonisjs/session/session_provider'),
    () => import('@adonisjs/vite/vite_provider'),
    () => import('@adonisjs/shield/shield_provider'),
    () => import('@adonisjs/static/static_provider'),
    () => import('@adonisjs/lucid/database_provider'),
    () => import('@adonisjs/auth/auth_provider'),
    () => import('@adonisjs/bouncer/bouncer_provider'),
    () => import('@adonisjs/i18n/i18n_provider'),
    () => import('@adonisjs/redis/redis_provider'),
    () => import('@adonisjs/limiter/limiter_provider'),
    () => import('@adonisjs/mail/mail_provider'),
    () => import('#providers/app_provider'),
    { file: () => import('#providers/sip_provider'), environment: ['web', 'test'] },
    () => import('#providers/carrier_provider'),
    { file: () => import('#providers/calls_provider'), environment: ['web', 'test'] },
    // Before fraud: its gate (registered last) takes a concurrent-call lease only for calls the others allow
    { file: () => import('#providers/payments_provider'), environment: ['web', 'test'] },
    { file: () => import('#providers/fraud_provider'), environment: ['web', 'test'] },
    { file: () => import('#providers/metrics_provider'), environment: ['web', 'test'] },
    { file: () => import('#providers/monitoring_provider'), environment: ['web', 'test'] },
    () => import('#providers/privacy_provider'),
  ],

  preloads: [
    () => import('#start/routes'),
    () => import('#start/kernel'),
    () => import('#start/events'),
  ],

  tests: {
    suites: [
      { name: 'unit', files: ['tests/unit/**/*.spec.ts'], timeout: 10_000 },
      { name: 'functional', files: ['tests/functional/**/*.spec.ts'], timeout: 30_000 },
      { name: 'browser', files: ['tests/browser/**/*.spec.ts'], timeout: 120_000 },
      { name: 'e2e', files: ['tests/e2e/**/*.spec.ts'], timeout: 300_000 },
    ],
    forceExit: true,
  },

  metaFiles: [
    { pattern: 'resources/views/**/*.edge', reloadServer: false },
    { pattern: 'resources/lang/**/*.{json,yaml,yml}', reloadServer: false },
    { pattern: 'public/**', reloadServer: false },
    // The media packet path in C++ (bin/lib.sh build_native), loaded beside its module
    { pattern: 'packages/media/native/build/packet_path.node', reloadServer: false },
  ],

  hooks: {
    buildStarting: [() => import('@adonisjs/vite/build_hook')],
  },
})
