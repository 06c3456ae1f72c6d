import type { PersonalDataDeclaration } from '#core/personal_data'

const declaration: PersonalDataDeclaration = {
  module: 'calls',
  tables: [
    {
      table: 'sip_devices',
      subject: 'user',
      columns: {
        label: 'device name chosen by the user',
        sip_username: 'SIP user name of the device',
        ha1_md5: 'digest HA1 (MD5), encrypted',
        ha1_sha256: 'digest HA1 (SHA-256), encrypted',
        last_registered_at: 'when the device last registered',
      },
      purpose: 'customers’ own SIP phones: registration and digest authentication',
      legalBasis: 'contract',
      retention: 'until the device is revoked or the user is deleted',
    },
    {
      table: 'call_records',
      subject: 'caller',
      columns: {
        user_id: 'the calling or called user',
        caller_number: 'calling number (E.164), null when withheld by an external caller',
        callee_number: 'called number (E.164 or a short code)',
        started_at: 'when the call attempt started',
        answered_at: 'when the call was answered',
        ended_at: 'when the call ended',
        duration_seconds: 'call duration',
      },
      purpose: 'call detail records: call history, billing, fraud prevention (TDDDG §§ 9-10)',
      legalBasis: 'legal_obligation',
      retention: '6 months after the call, then deleted (call metadata retention job)',
    },
  ],
  notPersonal: {
    'call_records.uuid': 'random handle of the record',
    'call_records.node_id': 'which server process handled the call',
    'sip_devices.realm': 'SIP realm of our service, the same for everyone',
  },
}

export default declaration
