import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import type User from '#accounts/models/user'
import Company from '#accounts/models/company'
import AuditLog from '#accounts/services/audit_log'
import PriceList from '#billing/models/price_list'
import PriceListVersion from '#billing/models/price_list_version'
import PriceListRate from '#billing/models/price_list_rate'
import CarrierPurchasePrice from '#billing/models/carrier_purchase_price'
import { parseCsv, toCsv, type CsvProblem, type CsvRate } from '#billing/price_list_csv'
import {
  longestPrefixMatch,
  parseIncrement,
  type BillingIncrement,
} from '#billing/tariff_arithmetic'

/** Dates staff type are days in the company's (and our) time zone. */
export const BILLING_TIME_ZONE = 'Europe/Berlin'

export type PriceListErrorCode =
  | 'not_found'
  | 'company_has_list'
  | 'default_exists'
  | 'valid_from_past'
  | 'version_exists'
  | 'version_valid'
  | 'csv'

export class PriceListError extends Error {
  constructor(
    public code: PriceListErrorCode,
    public field: string | null,
    public problems: CsvProblem[] = []
  ) {
    super(code)
  }
}

export interface RateInput {
  prefix: string
  destination: string
  pricePerMinute: number
  connectionFee: number
  increment: BillingIncrement
}

export interface Actor {
  actor: User
  ip: string
}

/** A rate with what carriers charge us for it: the dearest carrier decides the margin shown. */
export interface RateWithMargin {
  rate: PriceListRate
  purchase: { carrierName: string; pricePerMinute: number } | null
  margin: number | null
}

/**
 * Staff edits of price lists. A version's rates can be changed only until it becomes valid, so a
 * rated call always matches the prices shown for its date; later changes are a new version.
 */
export default class PriceListService {
  async lists() {
    const lists = await PriceList.query()
      .preload('company')
      .preload('versions', (query) => query.orderBy('valid_from', 'desc'))
    return lists.sort(
      (a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name)
    )
  }

  async find(id: number) {
    const list = await PriceList.query()
      .where('id', id)
      .preload('company')
      .preload('versions', (query) => query.orderBy('valid_from', 'desc'))
      .first()
    if (!list) throw new PriceListError('not_found', null)
    return list
  }

  /** Companies that may get an override (not terminated, none yet). */
  async companiesWithoutList() {
    return Company.query()
      .whereNot('status', 'terminated')
      .whereNotIn('id', db.from('price_lists').whereNotNull('company_id').select('company_id'))
      .orderBy('legal_name')
  }

  async create(input: { name: string; companyId: number | null }, { actor, ip }: Actor) {
    const clash = PriceList.query()
    if (input.companyId === null) clash.whereNull('company_id')
    else clash.where('company_id', input.companyId)
    if (await clash.first())
      throw new PriceListError(
        input.companyId === null ? 'default_exists' : 'company_has_list',
        'company_id'
      )
    let list: PriceList
    try {
      list = await PriceList.create(input)
    } catch (error) {
      // Two staff members at the same moment: the database's single-default index (0621) decides
      if (
        input.companyId === null &&
        /price_lists_single_default|UNIQUE|23505/i.test(
          `${error} ${(error as { code?: string }).code}`
        )
      )
        throw new PriceListError('default_exists', 'company_id')
      throw error
    }
    await this.#audit(
      'price_list.created',
      list,
      { actor, ip },
      { name: list.name, company: list.companyId }
    )
    return list
  }

  /** A new version valid from a future day (00:00 Berlin time), starting with the latest version's rates. */
  async addVersion(
    list: PriceList,
    validFromDay: string,
    { actor, ip }: Actor,
    now = DateTime.utc()
  ) {
    const validFrom = DateTime.fromISO(validFromDay, { zone: BILLING_TIME_ZONE }).startOf('day')
    if (!validFrom.isValid || validFrom <= now)
      throw new PriceListError('valid_from_past', 'valid_from')
    if (list.versions.some((version) => version.validFrom.toMillis() === validFrom.toMillis())) {
      throw new PriceListError('version_exists', 'valid_from')
    }
    const latest = list.versions[0] ?? null
    const version = await db.transaction(async (trx) => {
      const created = await PriceListVersion.create(
        {
          priceListId: list.id,
          validFrom: validFrom.toUTC(),
          seatFeePerMonth: latest?.seatFeePerMonth ?? null,
          numberFeePerMonth: latest?.numberFeePerMonth ?? null,
        },
        { client: trx }
      )
      if (latest) {
        const rates = await PriceListRate.query({ client: trx }).where(
          'price_list_version_id',
          latest.id
        )
        for (const rate of rates) {
          await PriceListRate.create(
            { ...ratePayload(rate), priceListVersionId: created.id },
            { client: trx }
          )
        }
      }
      return created
    })
    await this.#audit(
      'price_list.version_created',
      list,
      { actor, ip },
      { validFrom: validFrom.toISODate(), copiedFrom: latest?.validFrom.toISO() ?? null }
    )
    return version
  }

  /** The version of a list; only editable while it is not yet valid. */
  version(list: PriceList, versionId: number) {
    const version = list.versions.find((entry) => entry.id === versionId)
    if (!version) throw new PriceListError('not_found', null)
    return version
  }

  #editable(version: PriceListVersion, now: DateTime, field = 'prefix') {
    if (version.validFrom <= now) throw new PriceListError('version_valid', field)
  }

  async rates(version: PriceListVersion) {
    return PriceListRate.query().where('price_list_version_id', version.id).orderBy('prefix')
  }

  /** Adds a destination or replaces the one with the same prefix. */
  async saveRate(
    list: PriceList,
    version: PriceListVersion,
    input: RateInput,
    { actor, ip }: Actor,
    now = DateTime.utc()
  ) {
    this.#editable(version, now)
    const { first, next } = parseIncrement(input.increment)
    const values = {
      destination: input.destination,
      pricePerMinute: input.pricePerMinute,
      connectionFee: input.connectionFee,
      firstInterval: first,
      nextInterval: next,
    }
    const rate = await PriceListRate.updateOrCreate(
      { priceListVersionId: version.id, prefix: input.prefix },
      values
    )
    await this.#audit(
      'price_list.rate_saved',
      list,
      { actor, ip },
      { validFrom: version.validFrom.toISO(), prefix: input.prefix, ...values }
    )
    return rate
  }

  async deleteRate(
    list: PriceList,
    version: PriceListVersion,
    rateId: number,
    { actor, ip }: Actor,
    now = DateTime.utc()
  ) {
    this.#editable(version, now)
    const rate = await PriceListRate.query()
      .where('price_list_version_id', version.id)
      .where('id', rateId)
      .first()
    if (!rate) throw new PriceListError('not_found', null)
    await rate.delete()
    await this.#audit(
      'price_list.rate_deleted',
      list,
      { actor, ip },
      { validFrom: version.validFrom.toISO(), prefix: rate.prefix }
    )
  }

  /** The monthly fees of a not yet valid version; null clears one (an override then takes the default's). */
  async saveFees(
    list: PriceList,
    version: PriceListVersion,
    fees: { seat: number | null; number: number | null },
    { actor, ip }: Actor,
    now = DateTime.utc()
  ) {
    this.#editable(version, now, 'seat_fee')
    version.seatFeePerMonth = fees.seat
    version.numberFeePerMonth = fees.number
    await version.save()
    await this.#audit(
      'price_list.fees_saved',
      list,
      { actor, ip },
      { validFrom: version.validFrom.toISO(), ...fees }
    )
  }

  async exportCsv(version: PriceListVersion) {
    return toCsv((await this.rates(version)).map(ratePayload))
  }

  /** Replaces all rates of a not yet valid version with the file's; a file with any bad line changes nothing. */
  async importCsv(
    list: PriceList,
    version: PriceListVersion,
    text: string,
    { actor, ip }: Actor,
    now = DateTime.utc()
  ) {
    this.#editable(version, now, 'file')
    const { rates, problems } = parseCsv(text)
    if (problems.length) throw new PriceListError('csv', 'file', problems)
    await db.transaction(async (trx) => {
      await PriceListRate.query({ client: trx }).where('price_list_version_id', version.id).delete()
      for (const rate of rates)
        await PriceListRate.create({ ...rate, priceListVersionId: version.id }, { client: trx })
    })
    await this.#audit(
      'price_list.imported',
      list,
      { actor, ip },
      { validFrom: version.validFrom.toISO(), rates: rates.length }
    )
    return rates.length
  }

  /** Each rate with the dearest carrier purchase price whose prefix covers it, and the margin per minute. */
  async withMargins(rates: PriceListRate[]): Promise<RateWithMargin[]> {
    const purchases = await CarrierPurchasePrice.query()
    const carriers = [...new Set(purchases.map((entry) => entry.carrierName))]
    return rates.map((rate) => {
      let dearest: RateWithMargin['purchase'] = null
      for (const carrierName of carriers) {
        const match = longestPrefixMatch(
          rate.prefix,
          purchases.filter((entry) => entry.carrierName === carrierName)
        )
        if (match && (!dearest || match.pricePerMinute > dearest.pricePerMinute))
          dearest = { carrierName, pricePerMinute: match.pricePerMinute }
      }
      return {
        rate,
        purchase: dearest,
        margin: dearest ? rate.pricePerMinute - dearest.pricePerMinute : null,
      }
    })
  }

  async purchasePrices() {
    return CarrierPurchasePrice.query().orderBy('carrier_name').orderBy('prefix')
  }

  async savePurchasePrice(
    input: { carrierName: string; prefix: string; pricePerMinute: number },
    { actor, ip }: Actor
  ) {
    const price = await CarrierPurchasePrice.updateOrCreate(
      { carrierName: input.carrierName, prefix: input.prefix },
      { pricePerMinute: input.pricePerMinute }
    )
    await AuditLog.record({
      action: 'purchase_price.saved',
      actor,
      companyId: null,
      target: { type: 'purchase_price', id: price.id },
      details: input,
      ip,
    })
    return price
  }

  async deletePurchasePrice(id: number, { actor, ip }: Actor) {
    const price = await CarrierPurchasePrice.find(id)
    if (!price) throw new PriceListError('not_found', null)
    await price.delete()
    await AuditLog.record({
      action: 'purchase_price.deleted',
      actor,
      companyId: null,
      target: { type: 'purchase_price', id },
      details: { carrierName: price.carrierName, prefix: price.prefix },
      ip,
    })
  }

  async #audit(
    action: string,
    list: PriceList,
    { actor, ip }: Actor,
    details: Record<string, unknown>
  ) {
    await AuditLog.record({
      action,
      actor,
      companyId: list.companyId,
      target: { type: 'price_list', id: list.id },
      details,
      ip,
    })
  }
}

function ratePayload(rate: PriceListRate): CsvRate {
  return {
    prefix: rate.prefix,
    destination: rate.destination,
    pricePerMinute: rate.pricePerMinute,
    connectionFee: rate.connectionFee,
    firstInterval: rate.firstInterval,
    nextInterval: rate.nextInterval,
  }
}
