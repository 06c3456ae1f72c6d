import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig, targets } from '@adonisjs/core/logger'

/**
 * Tests log into a file of their own process (tmp/logs/test-<pid>.log) instead of the terminal:
 * the report stays readable, and the canary test reads every log line for secrets.
 */
export const TEST_LOG_FILE = app.inTest ? app.tmpPath('logs', `test-${process.pid}.log`) : undefined

/**
 * Days the application logs are kept in production (journald's MaxRetentionSec in
 * deploy/journald/fluffycall.conf, the README's production set-up, the TOMs page): they can hold
 * IP addresses of SIP peers and phone numbers. tom_claims.spec checks that all of these agree.
 */
export const APPLICATION_LOG_RETENTION_DAYS = 14

/**
 * Where the lines go: production writes one JSON object per line to stdout (journald or the
 * collector keeps them, see the README's log retention); development gets readable coloured lines
 * (pino-pretty, a development dependency only); tests a file of their own.
 */
export function logTargets(where: { production: boolean; testLogFile?: string }) {
  if (where.testLogFile) return [targets.file({ destination: where.testLogFile, mkdir: true })]
  if (where.production) return [targets.file({ destination: 1 })]
  return [
    targets.pretty({
      colorize: !process.env.NO_COLOR,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,name',
      singleLine: true,
    }),
  ]
}

const loggerConfig = defineConfig({
  default: 'app',
  loggers: {
    app: {
      enabled: true,
      name: 'fluffycall',
      level: env.get('LOG_LEVEL'),
      // Credentials never reach a log line, whatever a caller passes in.
      redact: {
        paths: [
          'password',
          '*.password',
          'authorization',
          '*.authorization',
          'secret',
          '*.secret',
          'token',
          '*.token',
        ],
        censor: '[redacted]',
      },
      transport: {
        targets: logTargets({ production: app.inProduction, testLogFile: TEST_LOG_FILE }),
      },
    },
  },
})

export default loggerConfig

declare module '@adonisjs/core/types' {
  export interface LoggersList extends InferLoggers<typeof loggerConfig> {}
}
