import vine from '@vinejs/vine'
import { REQUEST_KINDS } from '#privacy/models/data_subject_request'

/** A request the user files about themself (access has its own button; rectification is self-service). */
export const fileRequestValidator = vine.create({
  kind: vine.string().in(['erasure', 'objection']),
  details: vine.string().trim().minLength(3).maxLength(4000),
})

export const profileValidator = vine.create({
  full_name: vine.string().trim().minLength(2).maxLength(200),
  email: vine.string().trim().email().maxLength(254),
})

/** Staff enter a request that came by mail or letter. */
export const mailedRequestValidator = vine.create({
  name: vine.string().trim().minLength(2).maxLength(200),
  email: vine.string().trim().email().maxLength(254),
  kind: vine.string().in([...REQUEST_KINDS]),
  details: vine.string().trim().maxLength(4000).optional(),
  received_on: vine.date({ formats: ['YYYY-MM-DD'] }),
})

export const extendValidator = vine.create({
  reason: vine.string().trim().minLength(10).maxLength(2000),
})

export const closeValidator = vine.create({
  status: vine.string().in(['completed', 'rejected']),
  outcome: vine.string().trim().minLength(3).maxLength(4000),
})
