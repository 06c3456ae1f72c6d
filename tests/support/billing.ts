import { DateTime } from 'luxon'
import PriceList from '#billing/models/price_list'
import PriceListVersion from '#billing/models/price_list_version'
import PriceListRate from '#billing/models/price_list_rate'
import { parseIncrement, type BillingIncrement } from '#billing/tariff_arithmetic'

export interface RateFixture {
  prefix: string
  destination?: string
  /** 1/10,000 cent per minute */
  price: number
  fee?: number
  increment?: BillingIncrement
}

/** A price list (the default one when companyId is null) with versions valid from the given dates. */
export async function makePriceList(
  companyId: number | null,
  versions: Array<{ validFrom: string; rates: RateFixture[] }>,
  name?: string
) {
  const list = await PriceList.create({
    name: name ?? (companyId === null ? 'Standard' : `Firma ${companyId}`),
    companyId,
  })
  for (const entry of versions) {
    const version = await PriceListVersion.create({
      priceListId: list.id,
      validFrom: DateTime.fromISO(entry.validFrom, { zone: 'utc' }),
    })
    for (const rate of entry.rates) {
      const { first, next } = parseIncrement(rate.increment ?? '60/1')
      await PriceListRate.create({
        priceListVersionId: version.id,
        prefix: rate.prefix,
        destination: rate.destination ?? `Ziel ${rate.prefix}`,
        pricePerMinute: rate.price,
        connectionFee: rate.fee ?? 0,
        firstInterval: first,
        nextInterval: next,
      })
    }
  }
  return list
}
