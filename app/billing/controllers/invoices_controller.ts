import type { HttpContext } from '@adonisjs/core/http'
import Invoice from '#billing/models/invoice'
import InvoiceDocument from '#billing/models/invoice_document'

/** Customer area: the company's invoices and their stored PDF and XML, served as issued. */
export default class InvoicesController {
  async index({ view, bouncer, auth }: HttpContext) {
    await bouncer.with('InvoicePolicy').authorize('list')
    const invoices = await Invoice.query().where('company_id', auth.getUserOrFail().companyId!).orderBy('id', 'desc').limit(120)
    return view.render('pages/customer/invoices', { invoices })
  }

  async download({ params, bouncer, response }: HttpContext) {
    await bouncer.with('InvoicePolicy').authorize('list')
    const invoice = await Invoice.find(Number(params.id))
    if (!invoice) return response.notFound()
    await bouncer.with('InvoicePolicy').authorize('download', invoice)
    const document = await InvoiceDocument.query().where('invoice_id', invoice.id).where('kind', params.kind).first()
    if (!document) return response.notFound()
    const type = document.kind === 'pdf' ? 'application/pdf' : 'application/xml'
    response.header('content-type', type)
    response.header('content-disposition', `attachment; filename="${invoice.number}.${document.kind}"`)
    // The stored hash of the issued bytes (GoBD); clients can check what they received
    response.header('x-content-sha256', document.sha256)
    return response.send(document.content)
  }
}
