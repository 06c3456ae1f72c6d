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

/** A personal-data breach as staff record it (Art. 33(3), (5) GDPR). */
export const breachValidator = vine.create({
  title: vine.string().trim().minLength(3).maxLength(200),
  nature: vine.string().trim().minLength(3).maxLength(4000),
  data_concerned: vine.string().trim().minLength(3).maxLength(4000),
  consequences: vine.string().trim().minLength(3).maxLength(4000),
  measures: vine.string().trim().minLength(3).maxLength(4000),
  role: vine.string().in(['controller', 'processor', 'both']),
  // A datetime-local field: German time, read with its zone by the controller
  became_aware_at: vine.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/),
})

export const breachNoticeValidator = vine.create({
  company_ids: vine.array(vine.number().positive()).minLength(1),
})

export const authorityNoticeValidator = vine.create({
  reference: vine.string().trim().minLength(2).maxLength(120),
  delay_reason: vine.string().trim().maxLength(2000).optional(),
})

/** The owner confirms the termination by typing the company's name. */
export const terminationValidator = vine.create({
  company_name: vine.string().trim().maxLength(300),
})
