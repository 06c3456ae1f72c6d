import type { IncomingInvite } from '#sip'
import type Company from '#accounts/models/company'
import type User from '#accounts/models/user'
import type NumberService from '#calls/services/number_service'
import type { CallingParty } from '#calls/b2bua/carrier_request'

/** Which number the call shows, decided here: the browser may only choose among the company's. */
export async function callingPartyOf(
  numbers: Pick<NumberService, 'callerIdsFor' | 'defaultCallerId'>,
  invite: IncomingInvite,
  user: User,
  company: Company,
  emergency: boolean
): Promise<CallingParty> {
  // The browser may choose, but only among the numbers this user may present.
  const presentable = await numbers.callerIdsFor(user)
  const requested = invite.request.headers.get('x-fluffycall-caller-id')?.trim()
  const number =
    (requested && presentable.includes(requested) ? requested : null) ??
    (await numbers.defaultCallerId(user))
  // Privacy: id withholds this call's number, Privacy: none shows it; without one the user's default applies.
  const privacy = (invite.request.headers.get('privacy') ?? '')
    .toLowerCase()
    .split(';')
    .map((value) => value.trim())
  const withheld =
    privacy.includes('id') || (!privacy.includes('none') && Boolean(user.clirDefault))
  return {
    number,
    withheld: withheld && !emergency,
    emergency,
    location: emergency
      ? {
          street: user.emergencyStreet ?? company.billingStreet,
          postalCode: user.emergencyPostalCode ?? company.billingPostalCode,
          city: user.emergencyCity ?? company.billingCity,
          country: user.emergencyCountry ?? company.billingCountry,
        }
      : null,
  }
}
