import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const PriceListsController = () => import('#billing/controllers/price_lists_controller')
const PurchasePricesController = () => import('#billing/controllers/purchase_prices_controller')
const InvoicesController = () => import('#billing/controllers/invoices_controller')
const InvoiceRunsController = () => import('#billing/controllers/invoice_runs_controller')
const CounsellingLinesController = () => import('#billing/controllers/counselling_lines_controller')

// Admin: price lists, company overrides, purchase prices and margins (billing.manage)
router
  .group(() => {
    router.get('/price-lists', [PriceListsController, 'index']).as('price_lists.index')
    router.post('/price-lists', [PriceListsController, 'store']).as('price_lists.store')
    router.get('/price-lists/:id', [PriceListsController, 'show']).as('price_lists.show')
    router
      .post('/price-lists/:id/versions', [PriceListsController, 'storeVersion'])
      .as('price_lists.versions.store')
    router
      .post('/price-lists/:id/versions/:versionId/rates', [PriceListsController, 'storeRate'])
      .as('price_lists.rates.store')
    router
      .put('/price-lists/:id/versions/:versionId/fees', [PriceListsController, 'updateFees'])
      .as('price_lists.fees')
    router
      .delete('/price-lists/:id/versions/:versionId/rates/:rateId', [
        PriceListsController,
        'destroyRate',
      ])
      .as('price_lists.rates.destroy')
    router
      .get('/price-lists/:id/versions/:versionId/export', [PriceListsController, 'export'])
      .as('price_lists.export')
    router
      .post('/price-lists/:id/versions/:versionId/import', [PriceListsController, 'import'])
      .as('price_lists.import')

    router
      .get('/counselling-lines', [CounsellingLinesController, 'index'])
      .as('counselling_lines.index')
    router
      .post('/counselling-lines', [CounsellingLinesController, 'import'])
      .as('counselling_lines.import')

    router.get('/purchase-prices', [PurchasePricesController, 'index']).as('purchase_prices.index')
    router.post('/purchase-prices', [PurchasePricesController, 'store']).as('purchase_prices.store')
    router
      .delete('/purchase-prices/:id', [PurchasePricesController, 'destroy'])
      .as('purchase_prices.destroy')

    router.get('/invoice-runs', [InvoiceRunsController, 'index']).as('invoice_runs.index')
    router.post('/invoice-runs', [InvoiceRunsController, 'store']).as('invoice_runs.store')
    router.get('/invoice-runs/:id', [InvoiceRunsController, 'show']).as('invoice_runs.show')
    router
      .post('/invoices/:id/correction', [InvoiceRunsController, 'correct'])
      .as('invoices.correct')
    router
      .get('/recapitulative-statement.csv', [InvoiceRunsController, 'recapitulativeStatement'])
      .as('recapitulative_statement')
  })
  .where('id', router.matchers.number())
  .where('versionId', router.matchers.number())
  .where('rateId', router.matchers.number())
  .prefix('/admin/billing')
  .as('admin.billing')
  .use([middleware.auth(), middleware.staff()])

// Customer: the company's invoices (billing.view)
router
  .group(() => {
    router.get('/invoices', [InvoicesController, 'index']).as('invoices')
    router.get('/invoices/:id/:kind', [InvoicesController, 'download']).as('invoices.download')
    router.get('/itemised/:year/:month', [InvoicesController, 'itemised']).as('invoices.itemised')
  })
  .where('id', router.matchers.number())
  .where('kind', /^(pdf|xml)$/)
  .where('year', router.matchers.number())
  .where('month', router.matchers.number())
  .prefix('/app')
  .as('customer')
  .use([middleware.auth(), middleware.customer()])
const PaymentDetailsController = () =>
  import('#billing/payments/controllers/payment_details_controller')

// Customer area: the company's payment details (owner and admins, billing.payment.manage)
router
  .group(() => {
    router.get('/payment', [PaymentDetailsController, 'show']).as('payments.details')
    router.put('/payment/mandate', [PaymentDetailsController, 'saveMandate']).as('payments.mandate')
    router
      .put('/payment/invoice-email', [PaymentDetailsController, 'saveInvoiceEmail'])
      .as('payments.invoice_email')
    router
      .put('/payment/transfer', [PaymentDetailsController, 'chooseTransfer'])
      .as('payments.transfer')
  })
  .prefix('/app/billing')
  .as('customer')
  .use([middleware.auth(), middleware.customer()])

const DebitsController = () => import('#billing/payments/controllers/debits_controller')
const OverdueController = () => import('#billing/payments/controllers/overdue_controller')

// Admin: SEPA direct debit files, overdue invoices, paid and returned (billing.manage)
router
  .group(() => {
    router.get('/debits', [DebitsController, 'index']).as('debits.index')
    router.post('/debits', [DebitsController, 'store']).as('debits.store')
    router.get('/debits/:messageId', [DebitsController, 'download']).as('debits.download')
    router.get('/overdue', [OverdueController, 'index']).as('overdue.index')
    router.post('/overdue/paid', [OverdueController, 'markPaid']).as('overdue.paid')
    router.post('/overdue/returns', [OverdueController, 'recordReturn']).as('overdue.returns')
    router.post('/overdue/return-file', [OverdueController, 'returnFile']).as('overdue.return_file')
  })
  .where('messageId', { match: /^FC-DD-[0-9-]+$/ })
  .prefix('/admin/billing/payments')
  .as('admin.billing.payments')
  .use([middleware.auth(), middleware.staff()])
