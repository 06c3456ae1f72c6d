import vine from '@vinejs/vine'
import { INFORMATION_TOPICS } from '#privacy/models/information_request'

export const informationRequestValidator = vine.create({
  requester_name: vine.string().trim().minLength(2).maxLength(200),
  requester_email: vine.string().trim().email().maxLength(254),
  organisation: vine.string().trim().maxLength(200).optional(),
  topic: vine.string().in(INFORMATION_TOPICS as unknown as string[]),
  message: vine.string().trim().minLength(10).maxLength(5000),
})
