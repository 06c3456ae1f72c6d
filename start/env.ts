/*
 * Environment variables, validated once at boot. `.env.example` documents each of them.
 */
import { Env } from '@adonisjs/core/env'

export default await Env.create(new URL('../', import.meta.url), {
  NODE_ENV: Env.schema.enum(['development', 'production', 'test'] as const),
  PORT: Env.schema.number(),
  APP_KEY: Env.schema.secret(),
  APP_URL: Env.schema.string({ format: 'url', tld: false }),
  HOST: Env.schema.string({ format: 'host' }),
  LOG_LEVEL: Env.schema.string(),
  /* Server-side sessions: database by default, redis with REDIS_HOST, memory in tests (config/session.ts) */
  SESSION_DRIVER: Env.schema.enum.optional(['database', 'redis', 'memory'] as const),
  TRUSTED_PROXIES: Env.schema.string.optional(),

  /* SIP transports (config/sip.ts); ports default to 5060/5061, and to ephemeral ports in tests */
  SIP_TRANSPORTS: Env.schema.string.optional(),
  SIP_HOST: Env.schema.string.optional({ format: 'host' }),
  SIP_PUBLIC_HOST: Env.schema.string.optional({ format: 'host' }),
  SIP_UDP_PORT: Env.schema.number.optional(),
  SIP_TCP_PORT: Env.schema.number.optional(),
  SIP_TLS_PORT: Env.schema.number.optional(),
  SIP_TLS_CERT_PATH: Env.schema.string.optional(),
  SIP_TLS_KEY_PATH: Env.schema.string.optional(),
  SIP_WS_ALLOWED_ORIGINS: Env.schema.string.optional(),
  SIP_TRUSTED_FRONTS: Env.schema.string.optional(),
  /* RFC 3261 T1, T2, T4 in ms (config/sip.ts); defaults 500, 4000, 5000 */
  SIP_TIMER_T1: Env.schema.number.optional(),
  SIP_TIMER_T2: Env.schema.number.optional(),
  SIP_TIMER_T4: Env.schema.number.optional(),

  /* Media engine (config/media.ts): SDP/ICE addresses, UDP port ranges, silence before hang-up */
  MEDIA_ANNOUNCED_IPS: Env.schema.string.optional(),
  MEDIA_WEBRTC_PORTS: Env.schema.string.optional(),
  MEDIA_RTP_PORTS: Env.schema.string.optional(),
  MEDIA_TIMEOUT_SECONDS: Env.schema.number.optional(),
  MEDIA_ENGINE: Env.schema.enum.optional(['builtin', 'rtpengine'] as const),
  // builtin engine: media worker processes (default -1: max(1, cores - 1); 0: in the main process)
  MEDIA_WORKERS: Env.schema.number.optional(),
  MEDIA_PACKET_PATH: Env.schema.enum.optional(['native', 'typescript'] as const),
  MEDIA_WORKER_MAX_HEAP_MB: Env.schema.number.optional(),
  // host:port of rtpengine's ng control socket (UDP), checked in config/media.ts
  RTPENGINE_NG: Env.schema.string.optional(),
  RTPENGINE_TIMEOUT_MS: Env.schema.number.optional(),

  /* V8's scavenger with helper threads (app/core/garbage_collector.ts); default false: one thread */
  V8_PARALLEL_SCAVENGE: Env.schema.boolean.optional(),

  /* Database: SQLite (embedded default) or PostgreSQL */
  DB_CONNECTION: Env.schema.enum.optional(['sqlite', 'pg'] as const),
  SQLITE_FILE: Env.schema.string.optional(),
  PG_HOST: Env.schema.string.optional({ format: 'host' }),
  PG_PORT: Env.schema.number.optional(),
  PG_USER: Env.schema.string.optional(),
  PG_PASSWORD: Env.schema.string.optional(),
  PG_DB_NAME: Env.schema.string.optional(),

  /* Redis: optional; when REDIS_HOST is set, jobs go through BullMQ and counters through Redis */
  REDIS_HOST: Env.schema.string.optional({ format: 'host' }),
  REDIS_PORT: Env.schema.number.optional(),
  REDIS_PASSWORD: Env.schema.string.optional(),
  REDIS_PREFIX: Env.schema.string.optional(),

  /* Mail: `file` writes messages to tmp/mail (development), `smtp` sends them */
  MAIL_MAILER: Env.schema.enum.optional(['file', 'smtp'] as const),
  MAIL_FROM: Env.schema.string.optional(),
  SMTP_HOST: Env.schema.string.optional(),
  SMTP_PORT: Env.schema.number.optional(),
  SMTP_USERNAME: Env.schema.string.optional(),
  SMTP_PASSWORD: Env.schema.string.optional(),
  /* With smtp the mail provider is a sub-processor, named on the public pages (app/calls/carriers/mail_provider.ts) */
  MAIL_PROVIDER_NAME: Env.schema.string.optional(),
  MAIL_PROVIDER_COUNTRY: Env.schema.string.optional(),
  MAIL_PROVIDER_ADDRESS: Env.schema.string.optional(),
  MAIL_PROVIDER_PROCESSING_COUNTRY: Env.schema.string.optional(),
  MAIL_PROVIDER_DPA_URL: Env.schema.string.optional(),
  MAIL_PROVIDER_SINCE: Env.schema.string.optional(),
  MAIL_PROVIDER_SCC_REFERENCE: Env.schema.string.optional(),
  MAIL_PROVIDER_CONFIRMED: Env.schema.boolean.optional(),
  /* The hosting contract's metadata (config/carriers.ts) checked by the operator: production needs it */
  HOSTING_METADATA_CONFIRMED: Env.schema.boolean.optional(),
  /** Run overdue scheduled jobs (retention, invoices, checks) once at start; default: not in tests. */
  JOBS_CATCH_UP: Env.schema.boolean.optional(),

  /* Alerts (config/alerts.ts): a signed webhook and extra staff mailboxes for the one alert channel */
  ALERT_WEBHOOK_URL: Env.schema.string.optional({ format: 'url', tld: false }),
  ALERT_WEBHOOK_SECRET: Env.schema.string.optional(),
  ALERT_MAIL_TO: Env.schema.string.optional(),

  /* Carriers (config/carriers.ts): the loopback peer's port, the shipped carriers' credentials */
  LOCAL_CARRIER_PORT: Env.schema.number.optional(),
  // How the loopback peer is reached (tests of TLS and SDES-SRTP carriers in a server process)
  LOCAL_CARRIER_TRANSPORT: Env.schema.enum.optional(['udp', 'tcp', 'tls'] as const),
  LOCAL_CARRIER_SRTP: Env.schema.enum.optional(['none', 'sdes'] as const),
  SIPGATE_TRUNK_USERNAME: Env.schema.string.optional(),
  SIPGATE_TRUNK_PASSWORD: Env.schema.string.optional(),
  TWILIO_TERMINATION_NAME: Env.schema.string.optional(),
  TWILIO_SOURCE_ADDRESSES: Env.schema.string.optional(),
  /* Calls (config/calls.ts): ringing, shutdown drain, crash recovery identity */
  CALL_RING_TIMEOUT_SECONDS: Env.schema.number.optional(),
  // A released number rests this many months before it can be assigned again (default 6)
  NUMBER_QUARANTINE_MONTHS: Env.schema.number.optional(),
  CALL_DRAIN_SECONDS: Env.schema.number.optional(),
  CALL_OUTBOUND_RING_LIMIT_SECONDS: Env.schema.number.optional(),
  CALL_DURATION_WARNING_SECONDS: Env.schema.number.optional(),
  CALL_MAX_CONCURRENT: Env.schema.number.optional(),
  CALL_MAX_HEAP_PERCENT: Env.schema.number.optional(),
  CALL_NODE_LOST_AFTER_SECONDS: Env.schema.number.optional(),
  CALL_SWEEP_INTERVAL_SECONDS: Env.schema.number.optional(),
  SIP_CARRIER_MESSAGES_PER_SECOND: Env.schema.number.optional(),
  WEBPHONE_RECONNECT_GRACE_SECONDS: Env.schema.number.optional(),
  NODE_ID: Env.schema.string.optional(),
  /* Operations: the bearer token for /metrics (unset: off in production, loopback only elsewhere) */
  METRICS_TOKEN: Env.schema.string.optional(),
  // Seconds between the web server's runs of the operations alert rules (0: off)
  MONITORING_INTERVAL_SECONDS: Env.schema.number.optional(),
  /* Backups (config/backup.ts): pg_dump folder, days kept, hours between dumps */
  BACKUP_DIR: Env.schema.string.optional(),
  BACKUP_KEEP_DAYS: Env.schema.number.optional(),
  BACKUP_INTERVAL_HOURS: Env.schema.number.optional(),
  /* Payments (config/payments.ts): the SEPA creditor, pre-notification, reminders, suspension */
  SEPA_CREDITOR_NAME: Env.schema.string.optional(),
  SEPA_CREDITOR_ID: Env.schema.string.optional(),
  SEPA_CREDITOR_IBAN: Env.schema.string.optional(),
  SEPA_CREDITOR_BIC: Env.schema.string.optional(),
  SEPA_PRE_NOTIFICATION_DAYS: Env.schema.number.optional(),
  PAYMENT_REMINDER_DAYS: Env.schema.string.optional(),
  PAYMENT_SUSPEND_AFTER_DAYS: Env.schema.number.optional(),
  /* Tests only: a module under tests/fixtures/carriers/ that replaces config/carriers.ts */
  CARRIERS_CONFIG_FIXTURE: Env.schema.string.optional(),
})
