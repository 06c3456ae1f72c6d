import type { PersonalDataDeclaration } from '#core/personal_data'

/**
 * The alert channel's alerts carry evidence: the figures that triggered them, which for fraud
 * alerts can name a user, a called number or a login address. Controller data of FluffyCall
 * (security and fraud prevention), kept like call metadata.
 */
const declaration: PersonalDataDeclaration = {
  module: 'core',
  tables: [
    {
      table: 'alerts',
      subject: 'user',
      columns: {
        facts:
          'the figures that triggered the alert (may include a user, a called number, a source address)',
      },
      purpose: 'security and toll-fraud prevention, operations: alerting staff and the company',
      legalBasis: 'legitimate_interest',
      retention: 'while open; deleted 6 months after it was cleared (AlertRetentionJob, daily)',
    },
    {
      table: 'alert_events',
      subject: 'user',
      columns: {
        facts: 'the figures at each raise, escalation and clearing',
      },
      purpose:
        'security and toll-fraud prevention, operations: the history of an alert and its delivery',
      legalBasis: 'legitimate_interest',
      retention: 'deleted with its alert (6 months after clearing)',
    },
  ],
  notPersonal: {
    'monitor_readings.check_name':
      'name of an operations check (app/core/monitoring), its subjects are carriers, nodes and jobs',
  },
}

export default declaration
