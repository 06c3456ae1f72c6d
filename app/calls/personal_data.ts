import type { PersonalDataDeclaration } from '#core/personal_data'

/** Call metadata is deleted this long after the call started (our privacy statement, TDDDG § 9). */
export const CALL_RECORD_RETENTION_MONTHS = 6
/** Expired or revoked web phone logins stay this long (support questions), then go. */
export const WEB_PHONE_CREDENTIAL_GRACE_HOURS = 24
/** A SIP phone's registration address is remembered this long after its last registration from there. */
export const DEVICE_ADDRESS_RETENTION_DAYS = 90

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
      table: 'web_phone_credentials',
      subject: 'user',
      columns: {
        sip_username: 'random SIP user name of a web phone login',
        ha1_md5: 'digest HA1 (MD5), encrypted',
        ha1_sha256: 'digest HA1 (SHA-256), encrypted',
        session_digest: 'hash of the web session that obtained it',
        issued_address:
          'IP address the login was issued to (passes a brute-force lock on that address)',
        last_registered_at: 'when the web phone last registered',
      },
      purpose: 'the web phone’s SIP login, valid 12 hours, revoked on logout',
      legalBasis: 'contract',
      retention: `${WEB_PHONE_CREDENTIAL_GRACE_HOURS} hours after expiry (12 hours after issue) or revocation, then deleted (CallDataRetentionJob); at the latest with the user`,
    },
    {
      table: 'sip_device_addresses',
      subject: 'user',
      columns: {
        address: 'IP address a SIP phone registered from successfully',
        first_registered_at: 'first successful registration from the address',
        last_registered_at: 'last successful registration from the address',
      },
      purpose:
        'brute-force protection: the right password from a known address passes a lock on a shared (office) address',
      legalBasis: 'legitimate_interest',
      retention: `${DEVICE_ADDRESS_RETENTION_DAYS} days after the last registration from the address (CallDataRetentionJob), at most 10 per device; deleted when the device is revoked`,
    },
    {
      table: 'users',
      subject: 'user',
      columns: {
        clir_default: 'phone setting: withhold the own number by default',
        reject_anonymous: 'phone setting: refuse callers without a number',
      },
      purpose:
        'caller-ID choices of the user (TKG: CLIR permanently and per call, anonymous call rejection)',
      legalBasis: 'contract',
      retention: 'with the user account',
    },
    {
      table: 'companies',
      subject: 'user',
      columns: {
        full_numbers_declared_by:
          'the owner who declared that co-users are informed (TDDDG § 11(1))',
        full_numbers_declared_at: 'when the declaration was made',
        full_numbers_declaration: 'the words the owner confirmed',
      },
      purpose:
        'proof of the declaration that full destination numbers on the itemised list need (TDDDG § 11(1))',
      legalBasis: 'legal_obligation',
      retention:
        'while the company has full numbers; cleared when it leaves them (the audit log keeps the change)',
    },
    {
      table: 'call_records',
      subject: 'caller',
      columns: {
        user_id: 'the calling or called user',
        callee_user_id: 'the called colleague of an internal call',
        caller_number: 'calling number (E.164), null when withheld by an external caller',
        callee_number: 'called number (E.164 or a short code)',
        started_at: 'when the call attempt started',
        answered_at: 'when the call was answered',
        ended_at: 'when the call ended',
        duration_seconds: 'call duration',
        forwarded_to:
          'where a forwarded call went: a colleague’s extension or an external (third party’s) number',
        forward_reason: 'why the call was forwarded (always, busy, no answer, unreachable)',
        caller_signalling_encrypted: 'whether the calling side’s signalling was encrypted (TLS)',
        caller_media_encrypted: 'whether the calling side’s audio was encrypted (SRTP)',
        callee_signalling_encrypted: 'whether the called side’s signalling was encrypted (TLS)',
        callee_media_encrypted: 'whether the called side’s audio was encrypted (SRTP)',
        end_to_end_encrypted:
          'whether the call was end-to-end encrypted between two browsers (true even if only for a part)',
        caller_loss_percent: 'share of the calling side’s audio packets lost on the way to us (%)',
        caller_jitter_ms: 'variation of the calling side’s packet arrival times (ms)',
        caller_rtt_ms: 'round-trip time to the calling side’s device or carrier (ms, from RTCP)',
        caller_mos: 'estimated listening quality of the calling side’s audio (MOS, E-model)',
        callee_loss_percent: 'share of the called side’s audio packets lost on the way to us (%)',
        callee_jitter_ms: 'variation of the called side’s packet arrival times (ms)',
        callee_rtt_ms: 'round-trip time to the called side’s device or carrier (ms, from RTCP)',
        callee_mos: 'estimated listening quality of the called side’s audio (MOS, E-model)',
        quality_mos: 'the worse of the two sides’ estimated listening quality (MOS)',
      },
      purpose:
        'call detail records: call history, billing, fraud prevention (TDDDG §§ 9-10), call quality (support, carrier choice)',
      legalBasis: 'legal_obligation',
      retention: `${CALL_RECORD_RETENTION_MONTHS} months after the call started, then deleted (CallDataRetentionJob); longer while a billing dispute holds them (call_record_holds, TDDDG § 10)`,
    },
    {
      table: 'internal_lines',
      subject: 'user',
      columns: {
        extension: 'internal extension (2-4 digits) chosen by the company’s admins',
        do_not_disturb: 'phone setting: callers get busy',
        call_waiting: 'phone setting: a second call may signal during a call',
        share_presence: 'phone setting: colleagues may see whether the user is on a call',
      },
      purpose: 'calls inside the company: reaching a colleague by extension or direct dial',
      legalBasis: 'contract',
      retention: 'with the user account (deleted with the user)',
    },
    {
      table: 'call_forwardings',
      subject: 'user',
      columns: {
        user_id: 'the user whose calls are forwarded',
        condition: 'when: always, busy, after ringing unanswered, when not reachable',
        target_user_id: 'the colleague calls are forwarded to (their data as much as the user’s)',
        target_number:
          'an external number calls are forwarded to (E.164): a third party’s number the user chose',
        ring_seconds: 'seconds a call rings before a no-answer forwarding',
      },
      purpose: 'call forwarding set by the user: where their calls go when they cannot answer',
      legalBasis: 'contract',
      retention:
        'until the user turns the rule off; deleted with the user or with the colleague it names',
    },
    {
      table: 'phone_number_forwardings',
      subject: 'user',
      columns: {
        phone_number_id: 'the company number whose calls are forwarded',
        condition: 'when: always, busy, after ringing unanswered, when not reachable',
        target_user_id: 'the colleague calls are forwarded to',
        target_number:
          'an external number calls are forwarded to (E.164): a third party’s number the admins chose',
        ring_seconds: 'seconds a call rings before a no-answer forwarding',
        set_by_user_id:
          'the admin who set the rule (an external forwarding of a shared number is their call)',
      },
      purpose: 'call forwarding of a company number, set by the company’s admins',
      legalBasis: 'contract',
      retention:
        'until an admin turns the rule off; deleted with the number’s release or port-out and with the colleague it names',
    },
    {
      table: 'active_call_legs',
      subject: 'caller',
      columns: {
        local_uri: 'From of the kept dialog (may hold the caller number)',
        remote_uri: 'To of the kept dialog (may hold the callee number)',
        remote_target: "the carrier's or the user's phone's contact in the running call",
        host: "the next hop of the dialog (a desk phone's address, the SIP front's, a carrier's)",
      },
      purpose:
        "ending calls cleanly after a crash (BYE on the carrier's and the user's legs, CDR closed)",
      legalBasis: 'contract',
      retention: 'deleted when the call ends, or by crash recovery at the next start',
    },
  ],
  notPersonal: {
    'call_records.carrier_name': 'the carrier that carried the call (a company, not a person)',
    'call_records.uuid': 'random handle of the record',
    'call_records.node_id': 'which server process handled the call',
    'call_records.forwarded_from_uuid':
      'random handle of the forwarded call this outbound call continues',
    'sip_devices.realm': 'SIP realm of our service, the same for everyone',
    'web_phone_credentials.realm': 'SIP realm of our service, the same for everyone',
    'companies.itemised_numbers': 'company setting (full or shortened), holds no number',
  },
}

export default declaration
