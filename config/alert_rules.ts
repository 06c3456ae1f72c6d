import type { AlertRule } from '#core/monitoring/types'

/**
 * Operations alert rules, as data (app/core/monitoring). Each names the check it judges, its
 * threshold, severity and hold times: a failing subject raises after `forSeconds`, an open alert
 * clears after `clearAfterSeconds` of passing. A reading not observed for two intervals of its
 * check (or a check that throws) counts as failing, whatever its value.
 */
const alertRules: AlertRule[] = [
  // 1 while the carrier's OPTIONS checks say down (its failuresBeforeDown rounds in a row)
  {
    name: 'carrier_down',
    check: 'carrier_health',
    severity: 'critical',
    above: 0,
    unit: 'flag',
    forSeconds: 0,
    clearAfterSeconds: 120,
  },
  // Share of failed call attempts over the last 15 minutes (judged from 10 attempts on)
  {
    name: 'call_failure_ratio',
    check: 'call_outcomes',
    severity: 'warning',
    above: 50,
    unit: 'percent',
    forSeconds: 300,
    clearAfterSeconds: 600,
  },
  // 95th percentile of the time to answer over the last 15 minutes
  {
    name: 'call_setup_p95',
    check: 'call_setup_time',
    severity: 'warning',
    above: 8000,
    unit: 'ms',
    forSeconds: 300,
    clearAfterSeconds: 600,
  },
  // 99th percentile of the event-loop delay since the last reading, per node
  {
    name: 'event_loop_lag',
    check: 'event_loop',
    severity: 'warning',
    above: 200,
    unit: 'ms',
    forSeconds: 120,
    clearAfterSeconds: 300,
  },
  // 1 while this node's PING to Redis fails (Redis configured only): calls are refused with 503,
  // background jobs stop. Two readings in a row (a restart of Redis is not worth a page).
  {
    name: 'redis_unreachable',
    check: 'redis',
    severity: 'critical',
    above: 0,
    unit: 'flag',
    forSeconds: 60,
    clearAfterSeconds: 120,
  },
  // Seconds since any scheduled job last completed (the alert redelivery runs every minute)
  {
    name: 'job_queue_stuck',
    check: 'job_queue',
    severity: 'critical',
    above: 600,
    unit: 'seconds',
    forSeconds: 0,
    clearAfterSeconds: 120,
  },
  // Intervals since each retention job last completed: more than two is a missed run
  {
    name: 'retention_job_missed',
    check: 'retention_runs',
    severity: 'critical',
    above: 2,
    unit: 'intervals',
    forSeconds: 0,
    clearAfterSeconds: 0,
  },
  {
    name: 'certificate_expiry',
    check: 'tls_certificate',
    severity: 'critical',
    below: 14,
    unit: 'days',
    forSeconds: 0,
    clearAfterSeconds: 0,
  },
  // Percent used of the file systems holding the database, temporary files and backups, per node
  {
    name: 'disk_space',
    check: 'disk_space',
    severity: 'critical',
    above: 90,
    unit: 'percent',
    forSeconds: 300,
    clearAfterSeconds: 600,
  },
  // Hours since the newest database dump (BACKUP_INTERVAL_HOURS is 24 by default)
  {
    name: 'backup_age',
    check: 'backup',
    severity: 'critical',
    above: 36,
    unit: 'hours',
    forSeconds: 0,
    clearAfterSeconds: 0,
  },
  // A TOM check on the public TOMs page failed (1) or could not run
  {
    name: 'tom_check_failed',
    check: 'toms',
    severity: 'critical',
    above: 0,
    unit: 'flag',
    forSeconds: 0,
    clearAfterSeconds: 0,
  },
]

export default alertRules
