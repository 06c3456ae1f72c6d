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
  ],
  notPersonal: {
    'sip_devices.realm': 'SIP realm of our service, the same for everyone',
  },
}

export default declaration
