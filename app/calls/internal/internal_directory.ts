import User from '#accounts/models/user'
import type Company from '#accounts/models/company'
import PhoneNumber from '#calls/models/phone_number'
import InternalLine from '#calls/models/internal_line'
import PhoneNumberForwarding from '#calls/models/phone_number_forwarding'
import CallForwarding, {
  DEFAULT_FORWARD_RING_SECONDS,
  type ForwardCondition,
} from '#calls/models/call_forwarding'
import { emergencyNumberOf, toE164Digits } from '#calls/routing/dialled_number'
import { extensionProblem, isExtensionShaped } from '#calls/internal/extension_rules'
import { LookupCache } from '#core/caching/lookup_changes'

/**
 * What calls read of lines and numbers here (a user's line, whether a dialled number is the
 * company's own), kept between calls until any line or number is written (#core/caching/
 * lookup_changes watches these tables). Shared rows: read them, never change them.
 */
const lookupTables = ['internal_lines', 'phone_numbers']
const userLines = new LookupCache<number, InternalLine | null>({ tables: lookupTables })
const companyNumbers = new LookupCache<string, PhoneNumber | null>({ tables: lookupTables })
const lineOf = (userId: number) => userLines.get(userId, () => InternalLine.find(userId))

/** A German number block is allocated as 10, 100 or 1000 numbers: fewer is no block. */
export const MIN_BLOCK_SIZE = 10

/** Where a call dialled inside the company goes: the colleagues that ring, and what the CDR shows. */
export interface InternalDestination {
  via: 'extension' | 'number'
  /** The extension or the E.164 number as dialled, normalised. */
  calleeNumber: string
  /** Active users that ring; empty for an extension nobody holds. */
  users: User[]
}

/** A user's line settings; the defaults for a user who has no row yet. */
export interface LineSettings {
  extension: string | null
  doNotDisturb: boolean
  callWaiting: boolean
  sharePresence: boolean
}

/** Where a forwarding sends a call: a colleague, or a number outside (E.164 with "+"). */
export type ForwardTarget =
  { kind: 'colleague'; userId: number } | { kind: 'external'; number: string }

/** One forwarding rule of a user, as calls apply it. */
export interface ForwardRule {
  condition: ForwardCondition
  target: ForwardTarget
  /** no_answer: how long the user's devices ring first. */
  ringSeconds: number
  /** A number's rule: the admin who set it (null for a user's own rule). */
  setByUserId: number | null
}

/**
 * Who in a company a dialled string or one of the company's numbers reaches: extensions, numbers
 * assigned to a user, direct dial (Durchwahl) in a block the company holds, and otherwise
 * everyone of the company. The B2BUA asks it for internal calls and for inbound carrier calls.
 */
export default class InternalDirectory {
  /**
   * An extension of the company, or a number it holds, as dialled by one of its users; null when
   * the call leaves the company. Emergency and service codes are never internal.
   */
  async resolve(company: Company, dialled: string): Promise<InternalDestination | null> {
    const trimmed = dialled.trim()
    if (emergencyNumberOf(trimmed)) return null
    if (isExtensionShaped(trimmed)) {
      if (extensionProblem(trimmed)) return null
      const line = await InternalLine.query()
        .where('company_id', company.id)
        .where('extension', trimmed)
        .first()
      const user = line ? await this.#activeUser(company.id, line.userId) : null
      return { via: 'extension', calleeNumber: trimmed, users: user ? [user] : [] }
    }
    const digits = toE164Digits(trimmed, company.country)
    if (!digits) return null
    const row = await companyNumbers.get(`${company.id}:+${digits}`, () =>
      PhoneNumber.query().where('number', `+${digits}`).where('company_id', company.id).first()
    )
    if (!row) return null
    return { via: 'number', calleeNumber: row.number, users: await this.usersOfNumber(row) }
  }

  /**
   * Who one of the company's numbers rings: the user it is assigned to; else the colleague whose
   * extension is its direct-dial suffix within a block; else every active user of the company.
   */
  async usersOfNumber(number: {
    number: string
    companyId: number | null
    userId: number | null
  }): Promise<User[]> {
    if (number.companyId === null) return []
    if (number.userId !== null) {
      const user = await this.#activeUser(number.companyId, number.userId)
      return user ? [user] : []
    }
    const direct = await this.directDialUser(number.companyId, number.number)
    if (direct) return [direct]
    return User.query()
      .where('company_id', number.companyId)
      .whereNull('disabled_at')
      .where('is_staff', false)
      .orderBy('id')
  }

  /**
   * The colleague a company number reaches by direct dial: the number ends with their extension
   * and the company holds a block (at least MIN_BLOCK_SIZE numbers of the same length sharing
   * everything before the extension). The longest matching extension wins (123 before 23).
   */
  async directDialUser(companyId: number, number: string): Promise<User | null> {
    const lines = await InternalLine.query()
      .where('company_id', companyId)
      .whereNotNull('extension')
    const matching = lines
      .filter((line) => number.endsWith(line.extension!))
      .sort((a, b) => b.extension!.length - a.extension!.length)
    for (const line of matching) {
      if (!(await this.#inBlock(companyId, number, line.extension!.length))) continue
      const user = await this.#activeUser(companyId, line.userId)
      if (user) return user
    }
    return null
  }

  /**
   * The user's own number by direct dial: the company's unassigned number that ends with their
   * extension within a block; null when there is none.
   */
  async directDialNumber(user: User): Promise<string | null> {
    if (user.companyId === null) return null
    const line = await lineOf(user.id)
    if (!line?.extension) return null
    const candidates = await PhoneNumber.query()
      .where('company_id', user.companyId)
      .whereNull('user_id')
      .whereLike('number', `%${line.extension}`)
      .orderBy('number')
    for (const candidate of candidates) {
      if (!(await this.#inBlock(user.companyId, candidate.number, line.extension.length))) continue
      // Another colleague with a longer extension may own this number's suffix.
      const owner = await this.directDialUser(user.companyId, candidate.number)
      if (owner?.id === user.id) return candidate.number
    }
    return null
  }

  async settingsOf(userId: number): Promise<LineSettings> {
    const line = await lineOf(userId)
    return {
      extension: line?.extension ?? null,
      doNotDisturb: line?.doNotDisturb ?? false,
      callWaiting: line?.callWaiting ?? true,
      sharePresence: line?.sharePresence ?? true,
    }
  }

  /** The user's forwarding rules by condition (none: an empty map). */
  async forwardingOf(userId: number): Promise<Map<ForwardCondition, ForwardRule>> {
    return rulesOf(await CallForwarding.query().where('user_id', userId))
  }

  /** A company number's forwarding rules by condition (none: an empty map). */
  async numberForwardingOf(phoneNumberId: number): Promise<Map<ForwardCondition, ForwardRule>> {
    return rulesOf(await PhoneNumberForwarding.query().where('phone_number_id', phoneNumberId))
  }

  /** An active user of the company (a forwarding's colleague), or null. */
  colleague(companyId: number, userId: number): Promise<User | null> {
    return this.#activeUser(companyId, userId)
  }

  /** The extensions of several users at once (the company page, the colleague list). */
  async extensionsOf(userIds: number[]): Promise<Map<number, string>> {
    if (!userIds.length) return new Map()
    const lines = await InternalLine.query().whereIn('user_id', userIds).whereNotNull('extension')
    return new Map(lines.map((line) => [line.userId, line.extension!]))
  }

  async #inBlock(companyId: number, number: string, suffixLength: number) {
    const prefix = number.slice(0, -suffixLength)
    const block = await PhoneNumber.query()
      .where('company_id', companyId)
      .whereLike('number', `${prefix}%`)
      .select('number')
    return block.filter((row) => row.number.length === number.length).length >= MIN_BLOCK_SIZE
  }

  #activeUser(companyId: number, userId: number) {
    return User.query()
      .where('id', userId)
      .where('company_id', companyId)
      .whereNull('disabled_at')
      .first()
  }
}

/** Stored rules (a user's or a number's) as calls apply them; a rule without a target is skipped. */
function rulesOf(
  rows: Array<CallForwarding | PhoneNumberForwarding>
): Map<ForwardCondition, ForwardRule> {
  const rules = new Map<ForwardCondition, ForwardRule>()
  for (const row of rows) {
    const target: ForwardTarget | null =
      row.targetUserId !== null
        ? { kind: 'colleague', userId: row.targetUserId }
        : row.targetNumber
          ? { kind: 'external', number: row.targetNumber }
          : null
    if (!target) continue
    rules.set(row.condition, {
      condition: row.condition,
      target,
      ringSeconds: row.ringSeconds ?? DEFAULT_FORWARD_RING_SECONDS,
      setByUserId: row instanceof PhoneNumberForwarding ? row.setByUserId : null,
    })
  }
  return rules
}
