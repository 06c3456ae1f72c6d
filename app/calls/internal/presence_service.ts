import app from '@adonisjs/core/services/app'
import User from '#accounts/models/user'
import B2bua from '#calls/b2bua/b2bua'
import InternalLine from '#calls/models/internal_line'
import { userSubject } from '#calls/signalling/sip_subject'

export type PresenceState = 'available' | 'on_call' | 'ringing' | 'do_not_disturb' | 'offline'

export interface Colleague {
  id: number
  name: string
  extension: string | null
  state: PresenceState
}

/**
 * Colleagues' presence for the web phone, computed when asked from what is live right now (the
 * registrar's bindings, the B2BUA's running calls, do not disturb) and never stored: a presence
 * history could be used to monitor staff (§ 87(1) Nr. 6 BetrVG).
 */
export default class PresenceService {
  async colleagues(viewer: User): Promise<Colleague[]> {
    if (viewer.companyId === null) return []
    const users = await User.query()
      .where('company_id', viewer.companyId)
      .whereNot('id', viewer.id)
      .whereNull('disabled_at')
      .where('is_staff', false)
      .orderBy('full_name')
    const lines = await InternalLine.query().whereIn(
      'user_id',
      users.map((user) => user.id)
    )
    const byUser = new Map(lines.map((line) => [line.userId, line]))
    const stack = await app.container.make('sip.stack')
    const colleagues: Colleague[] = []
    for (const user of users) {
      const line = byUser.get(user.id)
      const call = B2bua.started?.callStateOf(user.id) ?? null
      const registered = (await stack.bindingsOfSubject(userSubject(user.id))).length > 0
      const state: PresenceState =
        call ?? (!registered ? 'offline' : line?.doNotDisturb ? 'do_not_disturb' : 'available')
      colleagues.push({
        id: user.id,
        name: user.fullName,
        extension: line?.extension ?? null,
        state,
      })
    }
    return colleagues
  }
}
