import vine from '@vinejs/vine'

/** A route entry: E.164 digits of the destination prefix ("" = the region's default route). */
export const routeValidator = vine.create({
  prefix: vine
    .string()
    .trim()
    .regex(/^\d{0,15}$/)
    .nullable(),
  carrier: vine.string().trim().maxLength(40),
  priority: vine.number().withoutDecimals().range([1, 99]),
  weight: vine.number().withoutDecimals().range([0, 1000]),
})

export const regionValidator = vine.create({
  region: vine.string().trim().maxLength(16).optional(),
})
