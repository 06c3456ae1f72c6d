import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import {
  DEFAULT_FORWARD_RING_SECONDS,
  FORWARD_CONDITIONS,
  type ForwardCondition,
} from '#calls/models/call_forwarding'
import {
  CallForwardingError,
  type CallForwardingInput,
  type ForwardTargetInput,
} from '#calls/internal/call_forwarding_service'

/** Per condition: "off", "external" (the number field holds the target) or a colleague's user id. */
const target = () =>
  vine
    .string()
    .trim()
    .regex(/^(off|external|\d{1,10})$/)
    .optional()
const number = () => vine.string().trim().maxLength(40).optional()

/** The forwarding form of a user (phone settings) and of a company number (numbers page). */
export const forwardingValidator = vine.create({
  always_target: target(),
  always_number: number(),
  busy_target: target(),
  busy_number: number(),
  no_answer_target: target(),
  no_answer_number: number(),
  no_answer_ring_seconds: vine.string().trim().maxLength(8).optional(),
  unreachable_target: target(),
  unreachable_number: number(),
})

type ForwardingForm = Partial<Record<string, string>>

/** The form's fields as the services' input; a condition whose select is absent stays unchanged. */
export function forwardingInputOf(form: ForwardingForm): CallForwardingInput {
  const input: CallForwardingInput = {}
  for (const condition of FORWARD_CONDITIONS) {
    const choice = form[`${condition}_target`]
    if (choice === undefined) continue
    const targetInput: ForwardTargetInput =
      choice === 'off'
        ? { kind: 'off' }
        : choice === 'external'
          ? { kind: 'external', number: form[`${condition}_number`] ?? '' }
          : { kind: 'colleague', userId: Number(choice) }
    const seconds = form[`${condition}_ring_seconds`]
    input[condition] = {
      target: targetInput,
      // Not a whole number ("abc", "2.5"): NaN, which the service refuses next to the field.
      ringSeconds: seconds ? (/^\d+$/.test(seconds) ? Number(seconds) : Number.NaN) : null,
    }
  }
  return input
}

interface StoredRule {
  targetUserId: number | null
  targetNumber: string | null
  ringSeconds: number | null
}

/** One row per condition: what the form's select, number and seconds show (partials/forwarding_rules). */
export function forwardingRowsOf(rules: Map<ForwardCondition, StoredRule>) {
  return FORWARD_CONDITIONS.map((condition) => {
    const rule = rules.get(condition)
    return {
      condition,
      target: rule ? (rule.targetUserId !== null ? String(rule.targetUserId) : 'external') : 'off',
      number: rule?.targetNumber ?? '',
      ringSeconds: rule?.ringSeconds ?? DEFAULT_FORWARD_RING_SECONDS,
    }
  })
}

/** Refused rules: the input and each problem next to its field, and the page's error line. */
export function flashForwardingProblems(
  { session, i18n }: Pick<HttpContext, 'session' | 'i18n'>,
  error: CallForwardingError
) {
  session.flashAll()
  session.flashErrors(
    Object.fromEntries(
      error.problems.map((problem) => [
        problem.field,
        i18n.t(CallForwardingError.messageKey(problem.code)),
      ])
    )
  )
  session.flash('error', i18n.t('phone.forwarding.not_saved'))
}
