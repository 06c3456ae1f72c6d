import env from '#start/env'
import app from '@adonisjs/core/services/app'
import { defineConfig, targets } from '@adonisjs/core/logger'

/**
 * Tests log into a file of their own process (tmp/logs/test-<pid>.log) instead of the terminal:
 * the report stays readable, and the canary test reads every log line for secrets.
 */
export const TEST_LOG_FILE = app.inTest ? app.tmpPath('logs', `test-${process.pid}.log`) : undefined

const loggerConfig = defineConfig({
  default: 'app',
  loggers: {
    app: {
      enabled: true,
      name: 'fluffycall',
      level: env.get('LOG_LEVEL'),
      // Credentials never reach a log line, whatever a caller passes in.
      redact: {
        paths: ['password', '*.password', 'authorization', '*.authorization', 'secret', '*.secret', 'token', '*.token'],
        censor: '[redacted]',
      },
      transport: {
        targets: [TEST_LOG_FILE ? targets.file({ destination: TEST_LOG_FILE, mkdir: true }) : targets.file({ destination: 1 })],
      },
    },
  },
})

export default loggerConfig

declare module '@adonisjs/core/types' {
  export interface LoggersList extends InferLoggers<typeof loggerConfig> {}
}
