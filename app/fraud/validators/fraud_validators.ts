import vine from '@vinejs/vine'
import { OUTBOUND_SUSPENSIONS } from '#fraud/models/fraud_company_policy'
import { RISK_CLASSES } from '#fraud/services/number_risk'

const limit = () => vine.number().withoutDecimals().range([0, 100_000]).nullable().optional()

/** IANA time zones this Node.js knows (Europe/Berlin, America/New_York ...). */
const TIME_ZONES = Intl.supportedValuesOf('timeZone')

/** A company's fraud policy as the admin form sends it; empty limits take the defaults. */
export const companyPolicyValidator = vine.create({
  time_zone: vine.enum([...TIME_ZONES, 'UTC']).optional(),
  allowed_countries: vine
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}([\s,;]+[A-Z]{2})*$/),
  risk_classes: vine.array(vine.enum(RISK_CLASSES)).optional(),
  outbound_suspension: vine.enum(OUTBOUND_SUSPENSIONS),
  company_concurrent: limit(),
  company_per_minute: limit(),
  company_per_hour: limit(),
  company_per_day: limit(),
  user_concurrent: limit(),
  user_per_minute: limit(),
  user_per_hour: limit(),
  user_per_day: limit(),
  device_concurrent: limit(),
  device_per_minute: limit(),
  device_per_hour: limit(),
  device_per_day: limit(),
  calls_to_one_number_per_hour: limit(),
  max_duration_seconds: vine.number().withoutDecimals().range([1, 86_400]).nullable().optional(),
  // money limits in euro (two decimals); stored in billing's unit, 1/10,000 cent
  max_price_per_minute_euro: vine.number().decimal([0, 4]).range([0, 1_000]).nullable().optional(),
  daily_cap_euro: vine.number().decimal([0, 2]).range([0, 10_000_000]).nullable().optional(),
  monthly_cap_euro: vine.number().decimal([0, 2]).range([0, 10_000_000]).nullable().optional(),
})

/** A review decision: why, in words (audited). */
export const reviewDecisionValidator = vine.create({
  reason: vine.string().trim().minLength(5).maxLength(2000),
})

/** New limits from the review page; empty fields keep what the company has. */
export const reviewLimitsValidator = vine.create({
  reason: vine.string().trim().minLength(5).maxLength(2000),
  company_concurrent: limit(),
  company_per_minute: limit(),
  company_per_hour: limit(),
  company_per_day: limit(),
  user_concurrent: limit(),
  user_per_minute: limit(),
  user_per_hour: limit(),
  user_per_day: limit(),
  calls_to_one_number_per_hour: limit(),
})

/** A user's own spend caps, set by the company's admins (euro; empty: none). */
export const userCapsValidator = vine.create({
  daily_cap_euro: vine.number().decimal([0, 2]).range([0, 10_000_000]).nullable().optional(),
  monthly_cap_euro: vine.number().decimal([0, 2]).range([0, 10_000_000]).nullable().optional(),
})
