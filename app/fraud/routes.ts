import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const FraudPoliciesController = () => import('#fraud/controllers/admin/fraud_policies_controller')

// Admin: fraud policies per company and the risk prefix table (fraud.manage)
router
  .group(() => {
    router.get('/fraud/companies/:id', [FraudPoliciesController, 'show']).as('fraud.company')
    router.put('/fraud/companies/:id', [FraudPoliciesController, 'update']).as('fraud.company.update')
    router.get('/fraud/prefixes', [FraudPoliciesController, 'prefixes']).as('fraud.prefixes')
    router.get('/fraud/prefixes.csv', [FraudPoliciesController, 'exportPrefixes']).as('fraud.prefixes.export')
    router.post('/fraud/prefixes', [FraudPoliciesController, 'importPrefixes']).as('fraud.prefixes.import')
  })
  .prefix('/admin')
  .as('admin')
  .use([middleware.auth(), middleware.staff()])
