import type { I18n } from '@adonisjs/i18n'

/** Texts the docked phone's script shows (states, failure reasons, notification), from phone.script.*. */
export const SCRIPT_TEXTS = [
  'state.connecting',
  'state.registered',
  'state.unregistered',
  'state.disconnected',
  'state.logged_out',
  'state.calling',
  'state.ringing',
  'state.incoming',
  'state.in_call',
  'state.on_hold',
  'state.busy',
  'state.unreachable',
  'state.refused',
  'state.ended',
  'state.failed',
  'state.connection_lost',
  'state.no_microphone',
  'state.cut_off',
  'reason.busy',
  'reason.no_answer',
  'reason.not_found',
  'reason.invalid_number',
  'reason.no_carrier',
  'reason.unavailable',
  'reason.objected',
  'reason.eu_only',
  'reason.user_disabled',
  'reason.account_inactive',
  'reason.fraud_suspended',
  'reason.payment_overdue',
  'reason.fraud_blocked_number',
  'reason.fraud_country',
  'reason.fraud_limit',
  'reason.fraud_concurrent',
  'reason.dpa_missing',
  'reason.restricted',
  'reason.forbidden',
  'reason.codec',
  'reason.connection_lost',
  'reason.no_microphone',
  'reason.other',
  'reason.do_not_disturb',
  'reason.no_extension',
  'reason.own_line',
  // A call the server ended (resources/js/phone/outcome_reason.ts, SERVER_END_CAUSES)
  'reason.cut_off_media',
  'reason.cut_off_other_side_lost',
  'reason.cut_off_max_duration',
  'reason.cut_off_spend_cap',
  'reason.cut_off_staff',
  'reason.cut_off_company',
  'reason.cut_off_server',
  'line.extension',
  'presence.available',
  'presence.on_call',
  'presence.ringing',
  'presence.do_not_disturb',
  'presence.offline',
  'presence.call',
  'presence.dial',
  'reason.emergency',
  'error.invalid_number',
  'error.credential',
  'notification.title',
  'notification.body',
  'notification.withheld',
  'quality.good',
  'quality.fair',
  'quality.poor',
  'quality.summary',
  'device.default',
  'hold',
  'resume',
  'mute',
  'unmute',
  'transfer.pending',
  'transfer.done',
  'transfer.failed',
  'transfer.needs_number',
  'encryption.e2ee',
  'encryption.e2ee_hint',
  'encryption.code',
  'encryption.exchanging',
  'encryption.transport',
  'encryption.transport_hint',
  'encryption.failed',
  'encryption.mismatch',
] as const

/** The script fills these placeholders itself; ICU must leave them in the text. */
const SCRIPT_PLACEHOLDERS = Object.fromEntries(
  ['reason', 'caller', 'mos', 'loss', 'jitter', 'rtt', 'status', 'number', 'name', 'code'].map(
    (name) => [name, `{${name}}`]
  )
)

/** The phone's script texts in the request's language, as JSON for a data attribute. */
export function phoneScriptTexts(i18n: I18n): string {
  return JSON.stringify(
    Object.fromEntries(
      SCRIPT_TEXTS.map((key) => [key, i18n.t(`phone.script.${key}`, SCRIPT_PLACEHOLDERS)])
    )
  )
}
