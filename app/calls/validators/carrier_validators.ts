import vine from '@vinejs/vine'

export const announceValidator = vine.create({
  effective_date: vine.date({ formats: ['YYYY-MM-DD'] }).optional(),
})

export const credentialsValidator = vine.create({
  username: vine.string().trim().maxLength(120).optional(),
  password: vine.string().maxLength(200).optional(),
})

export const enabledValidator = vine.create({
  enabled: vine.boolean(),
})
