import db from '@adonisjs/lucid/services/db'
import User from '#accounts/models/user'
import type Company from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'
import InternalLine from '#calls/models/internal_line'
import InternalSetting from '#calls/models/internal_setting'
import B2bua from '#calls/b2bua/b2bua'
import { lampOf } from '#calls/internal/busy_lamps'
import { extensionProblem, type ExtensionProblem } from '#calls/internal/extension_rules'

export class ExtensionError extends Error {
  constructor(
    public code: ExtensionProblem | 'user_not_in_company',
    public extension: string | null = null
  ) {
    super(code)
  }
}

interface Actor {
  actor: User
  ip: string | null
}

/**
 * Changes to a user's internal line: the extension (by the company's admins) and the user's own
 * do-not-disturb and call-waiting settings. Every change is audited with before and after.
 */
export default class InternalLineService {
  /** Sets or clears (null, '') a colleague's extension; refused ones throw ExtensionError. */
  async setExtension(
    company: Company,
    userId: number,
    input: string | null,
    { actor, ip }: Actor
  ): Promise<InternalLine> {
    const extension = input?.trim() ? input.trim() : null
    if (extension !== null) {
      const problem = extensionProblem(extension)
      if (problem) throw new ExtensionError(problem, extension)
    }
    const user = await User.query()
      .where('id', userId)
      .where('company_id', company.id)
      .where('is_staff', false)
      .first()
    if (!user) throw new ExtensionError('user_not_in_company')

    return db.transaction(async (trx) => {
      if (extension !== null) {
        const holder = await InternalLine.query({ client: trx })
          .where('company_id', company.id)
          .where('extension', extension)
          .whereNot('user_id', user.id)
          .first()
        if (holder) throw new ExtensionError('extension_taken', extension)
      }
      const line =
        (await InternalLine.find(user.id, { client: trx })) ??
        new InternalLine().merge({
          userId: user.id,
          doNotDisturb: false,
          callWaiting: true,
          sharePresence: true,
        })
      line.useTransaction(trx)
      const before = line.$isPersisted ? line.extension : null
      line.companyId = company.id
      line.extension = extension
      try {
        await line.save()
      } catch (error) {
        // Two admins choosing the same extension at once: the unique index decides.
        if (/unique|duplicate/i.test(String((error as Error).message)))
          throw new ExtensionError('extension_taken', extension)
        throw error
      }
      if (before !== extension)
        await AuditLog.record(
          {
            action: 'extension.changed',
            actor,
            companyId: company.id,
            target: { type: 'user', id: user.id },
            details: { before, after: extension },
            ip,
          },
          { client: trx }
        )
      return line
    })
  }

  /** The user's own settings (web phone, phone settings page); audited like the other phone settings. */
  async updateSettings(
    user: User,
    settings: { doNotDisturb?: boolean; callWaiting?: boolean; sharePresence?: boolean },
    ip: string | null
  ): Promise<InternalLine> {
    if (user.companyId === null) throw new ExtensionError('user_not_in_company')
    const line =
      (await InternalLine.find(user.id)) ??
      new InternalLine().merge({
        userId: user.id,
        companyId: user.companyId,
        extension: null,
        doNotDisturb: false,
        callWaiting: true,
        sharePresence: true,
      })
    const before = {
      doNotDisturb: line.doNotDisturb,
      callWaiting: line.callWaiting,
      sharePresence: line.sharePresence,
    }
    // Only the settings given change (the web phone sends do not disturb alone).
    if (settings.doNotDisturb !== undefined) line.doNotDisturb = settings.doNotDisturb
    if (settings.callWaiting !== undefined) line.callWaiting = settings.callWaiting
    if (settings.sharePresence !== undefined) line.sharePresence = settings.sharePresence
    const after = {
      doNotDisturb: line.doNotDisturb,
      callWaiting: line.callWaiting,
      sharePresence: line.sharePresence,
    }
    if (line.$isPersisted && JSON.stringify(before) === JSON.stringify(after)) return line
    await line.save()
    // Desk phones watching this line stop seeing it at once (NOTIFY terminated).
    if (before.sharePresence && !after.sharePresence)
      B2bua.started?.lamps.notifier.endSubscriptionsOf(lampOf(user.id))
    await AuditLog.record({
      action: 'phone.settings.changed',
      actor: user,
      target: { type: 'user', id: user.id },
      details: { before, after },
      ip,
    })
    return line
  }

  /** The company's owners turn presence in the colleague list on or off; audited. */
  async setPresence(company: Company, enabled: boolean, { actor, ip }: Actor) {
    const setting =
      (await InternalSetting.find(company.id)) ??
      new InternalSetting().merge({ companyId: company.id, presenceEnabled: false })
    const before = setting.$isPersisted ? setting.presenceEnabled : false
    setting.presenceEnabled = enabled
    await setting.save()
    const lamps = B2bua.started?.lamps
    if (!enabled && lamps) {
      // Busy-lamp subscriptions on the company's lines end at once (NOTIFY terminated).
      const lines = await InternalLine.query().where('company_id', company.id).select('user_id')
      for (const line of lines) lamps.notifier.endSubscriptionsOf(lampOf(line.userId))
    }
    if (before !== enabled)
      await AuditLog.record({
        action: 'company.presence.changed',
        actor,
        companyId: company.id,
        target: { type: 'company', id: company.id },
        details: { from: before, to: enabled },
        ip,
      })
    return setting
  }
}
