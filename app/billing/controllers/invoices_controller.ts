import type { HttpContext } from '@adonisjs/core/http'
import Invoice from '#billing/models/invoice'
import InvoiceDocument from '#billing/models/invoice_document'
import Company from '#accounts/models/company'
import ItemisedList from '#billing/services/itemised_list'

/** Customer area: the company's invoices and their stored PDF and XML, served as issued. */
export default class InvoicesController {
  async index({ view, bouncer, auth }: HttpContext) {
    await bouncer.with('InvoicePolicy').authorize('list')
    const company = await Company.findOrFail(auth.getUserOrFail().companyId)
    const invoices = await Invoice.query()
      .where('company_id', company.id)
      .orderBy('id', 'desc')
      .limit(120)
    return view.render('pages/customer/invoices', {
      invoices,
      itemised: company.itemisedNumbers !== 'none',
    })
  }

  async download({ params, bouncer, response }: HttpContext) {
    await bouncer.with('InvoicePolicy').authorize('list')
    const invoice = await Invoice.find(Number(params.id))
    if (!invoice) return response.notFound()
    await bouncer.with('InvoicePolicy').authorize('download', invoice)
    const document = await InvoiceDocument.query()
      .where('invoice_id', invoice.id)
      .where('kind', params.kind)
      .first()
    if (!document) return response.notFound()
    const type = document.kind === 'pdf' ? 'application/pdf' : 'application/xml'
    response.header('content-type', type)
    response.header(
      'content-disposition',
      `attachment; filename="${invoice.number}.${document.kind}"`
    )
    // The stored hash of the issued bytes (GoBD); clients can check what they received
    response.header('x-content-sha256', document.sha256)
    return response.send(document.content)
  }

  /** The itemised list of a month, rendered from the CDRs on request (never stored). */
  async itemised({ params, bouncer, auth, response, i18n }: HttpContext) {
    await bouncer.with('InvoicePolicy').authorize('list')
    const company = await Company.findOrFail(auth.getUserOrFail().companyId)
    const month = { year: Number(params.year), month: Number(params.month) }
    if (month.month < 1 || month.month > 12) return response.notFound()
    const list = new ItemisedList()
    const calls = await list.calls(company, month)
    if (!calls) return response.notFound(i18n.t('billing.invoices.no_itemised'))
    response.header('content-type', 'application/pdf')
    response.header(
      'content-disposition',
      `attachment; filename="einzelverbindungsnachweis-${month.year}-${String(month.month).padStart(2, '0')}.pdf"`
    )
    response.header('cache-control', 'no-store')
    return response.send(Buffer.from(await list.pdf(company, month, calls)))
  }
}
