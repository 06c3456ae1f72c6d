import type { HttpContext } from '@adonisjs/core/http'
import app from '@adonisjs/core/services/app'
import Company from '#accounts/models/company'
import fraudConfig from '#config/fraud'

/** The customer's spend so far: their own, and the company's for those who see billing. */
export default class SpendController {
  async show({ auth, view }: HttpContext) {
    const user = auth.getUserOrFail()
    const company = await Company.findOrFail(user.companyId)
    const timeZone = company.timeZone ?? fraudConfig.timeZone
    const spend = await app.container.make('fraud.spend')
    const policies = await app.container.make('fraud.policies')
    const seesCompany = await user.hasPermission('billing.view')
    return view.render('pages/customer/spend', {
      own: await spend.spent(`user:${user.id}`, timeZone),
      company: seesCompany ? await spend.spent(`company:${company.id}`, timeZone) : null,
      limits: seesCompany ? (await policies.company(company)).spend : null,
      timeZone,
    })
  }
}
