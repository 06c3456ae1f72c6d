import { inject } from '@adonisjs/core'
import vine from '@vinejs/vine'
import type { HttpContext } from '@adonisjs/core/http'
import { FORWARD_CONDITIONS } from '#calls/models/call_forwarding'
import CallForwardingService, {
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

const forwardingValidator = vine.create({
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

/** The form's fields as the service's input; a condition whose select is absent stays unchanged. */
function inputOf(form: ForwardingForm): CallForwardingInput {
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

/** The user's call forwarding: the form on the phone settings page, and JSON for the web phone. */
@inject()
export default class CallForwardingController {
  constructor(protected forwarding: CallForwardingService) {}

  async show({ auth, bouncer, response }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    response.header('Cache-Control', 'no-store')
    const rules = await this.forwarding.rulesOf(auth.getUserOrFail().id)
    return { active: rules.size > 0, rules: this.forwarding.summaryOf(rules) }
  }

  async update({ auth, bouncer, request, response, session, i18n }: HttpContext) {
    await bouncer.authorize('permission', 'calls.place')
    const form = await request.validateUsing(forwardingValidator)
    const user = auth.getUserOrFail()
    const company = await user.related('company').query().firstOrFail()
    try {
      await this.forwarding.update(user, company, inputOf(form), { actor: user, ip: request.ip() })
    } catch (error) {
      if (!(error instanceof CallForwardingError)) throw error
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
      return response.redirect().toRoute('customer.phone_settings')
    }
    session.flash('notice', i18n.t('phone.forwarding.saved'))
    return response.redirect().toRoute('customer.phone_settings')
  }
}
