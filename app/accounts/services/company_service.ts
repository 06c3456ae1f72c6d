import { DateTime } from 'luxon'
import db from '@adonisjs/lucid/services/db'
import emitter from '@adonisjs/core/services/emitter'
import Company, { type CompanyStatus } from '#accounts/models/company'
import User from '#accounts/models/user'
import RoleService from '#accounts/services/role_service'
import AuditLog from '#accounts/services/audit_log'
import SignupMailJob from '#accounts/jobs/signup_mail_job'
import queue from '#core/services/queue'
import counters from '#core/services/counters'
import { keyPart, withinLimits } from '#core/rate_limit'
import hash from '@adonisjs/core/services/hash'
import CompanyStatusMailJob, {
  type CompanyStatusMail,
} from '#accounts/jobs/company_status_mail_job'

export interface SignupData {
  legal_name: string
  legal_form: string
  country: string
  vat_id?: string
  register_entry?: string
  billing_street: string
  billing_postal_code: string
  billing_city: string
  data_residency: string
  privacy_contact_name: string
  privacy_contact_email: string
  full_name: string
  email: string
  password: string
}

/** Which status changes staff may make. */
const TRANSITIONS: Record<CompanyStatus, CompanyStatus[]> = {
  pending: ['active', 'terminated'],
  active: ['suspended', 'terminated'],
  suspended: ['active', 'terminated'],
  terminated: [],
}

/** The review's outcomes the owners are mailed about (suspending and re-activating are not mailed here). */
const STATUS_MAILS: Partial<Record<`${CompanyStatus}->${CompanyStatus}`, CompanyStatusMail>> = {
  'pending->active': 'approved',
  'pending->terminated': 'rejected',
}

export class InvalidStatusTransition extends Error {}

/** Sign-ups that lead to a mail: per address a day (any IP), per IP an hour (any address). */
export const SIGNUP_MAILS_PER_ADDRESS = 3
export const SIGNUPS_PER_IP = 10

export default class CompanyService {
  /**
   * Creates the company (pending) and its owner, who confirms the address through a mailed link
   * before logging in. A taken address creates nothing; its holder gets a note instead. Both
   * cases cost the same hashing and leave the mail to the job queue, so the caller answers alike.
   * Beyond the limits per address and per IP nothing is created or mailed (the answer stays the
   * same). The owner's language is the one the sign-up page was shown in (their mails follow it).
   * Returns the new owner, or null.
   */
  async signUp(data: SignupData, ip: string, locale = 'de') {
    const allowed = await withinLimits(counters, [
      {
        key: `signup:address:${keyPart(data.email)}`,
        max: SIGNUP_MAILS_PER_ADDRESS,
        windowSeconds: 24 * 60 * 60,
      },
      { key: `signup:ip:${ip}`, max: SIGNUPS_PER_IP, windowSeconds: 60 * 60 },
    ])
    if (!allowed || (await User.findBy('email', data.email))) {
      await hash.make(data.password)
      if (!allowed) return null
      await queue.dispatch(new SignupMailJob(), { email: data.email })
      return null
    }
    const ownerRole = await RoleService.findByName('owner')
    const { company, owner } = await db.transaction(async (trx) => {
      const created = await Company.create(
        {
          legalName: data.legal_name,
          legalForm: data.legal_form,
          country: data.country,
          vatId: data.vat_id ?? null,
          registerEntry: data.register_entry ?? null,
          billingStreet: data.billing_street,
          billingPostalCode: data.billing_postal_code,
          billingCity: data.billing_city,
          billingCountry: data.country,
          privacyContactName: data.privacy_contact_name,
          privacyContactEmail: data.privacy_contact_email,
          status: 'pending',
          dataResidency: data.data_residency as Company['dataResidency'],
          region: 'eu',
          // Issue 19: new companies start "encrypted only" (TLS and SRTP for their SIP phones).
          encryptedOnly: true,
        },
        { client: trx }
      )
      const createdOwner = await User.create(
        {
          companyId: created.id,
          roleId: ownerRole.id,
          isStaff: false,
          fullName: data.full_name,
          email: data.email,
          password: data.password,
          locale,
          awaitingConfirmation: true,
        },
        { client: trx }
      )
      return { company: created, owner: createdOwner }
    })
    await AuditLog.record({
      action: 'company.signed_up',
      actor: owner,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      ip,
    })
    await queue.dispatch(new SignupMailJob(), { email: data.email })
    return { company, owner }
  }

  allowedTransitions(company: Company) {
    return TRANSITIONS[company.status]
  }

  async changeStatus(
    company: Company,
    status: CompanyStatus,
    actor: User,
    ip: string,
    reason?: string
  ) {
    if (!TRANSITIONS[company.status].includes(status)) {
      throw new InvalidStatusTransition(`${company.status} -> ${status}`)
    }
    const from = company.status
    company.status = status
    if (status === 'active' && !company.approvedAt) company.approvedAt = DateTime.utc()
    if (status === 'terminated') company.terminatedAt = DateTime.utc()
    await company.save()
    await AuditLog.record({
      action: 'company.status.changed',
      actor,
      companyId: company.id,
      target: { type: 'company', id: company.id },
      details: { from, to: status, ...(reason ? { reason } : {}) },
      ip,
    })
    await emitter.emit('company:status_changed', { companyId: company.id, from, to: status })
    const mail = STATUS_MAILS[`${from}->${status}`]
    if (mail) await queue.dispatch(new CompanyStatusMailJob(), { companyId: company.id, mail })
    return company
  }
}
