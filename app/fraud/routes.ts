import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const FraudPoliciesController = () => import('#fraud/controllers/admin/fraud_policies_controller')
const SpendController = () => import('#fraud/controllers/spend_controller')
const FraudReviewsController = () => import('#fraud/controllers/admin/fraud_reviews_controller')

// Admin: fraud policies per company and the risk prefix table (fraud.manage), the review queue (fraud.review)
router
  .group(() => {
    router.get('/fraud/companies/:id', [FraudPoliciesController, 'show']).as('fraud.company')
    router
      .put('/fraud/companies/:id', [FraudPoliciesController, 'update'])
      .as('fraud.company.update')
    router.get('/fraud/prefixes', [FraudPoliciesController, 'prefixes']).as('fraud.prefixes')
    router
      .get('/fraud/prefixes.csv', [FraudPoliciesController, 'exportPrefixes'])
      .as('fraud.prefixes.export')
    router
      .post('/fraud/prefixes', [FraudPoliciesController, 'importPrefixes'])
      .as('fraud.prefixes.import')
    // the review queue (fraud.review)
    router.get('/fraud/reviews', [FraudReviewsController, 'index']).as('fraud.reviews')
    router
      .get('/fraud/reviews/:id', [FraudReviewsController, 'show'])
      .as('fraud.reviews.show')
      .where('id', router.matchers.number())
    router
      .post('/fraud/reviews/:id/clear', [FraudReviewsController, 'clear'])
      .as('fraud.reviews.clear')
      .where('id', router.matchers.number())
    router
      .post('/fraud/reviews/:id/confirm', [FraudReviewsController, 'confirm'])
      .as('fraud.reviews.confirm')
      .where('id', router.matchers.number())
    router
      .post('/fraud/reviews/:id/limits', [FraudReviewsController, 'limits'])
      .as('fraud.reviews.limits')
      .where('id', router.matchers.number())
  })
  .prefix('/admin')
  .as('admin')
  .use([middleware.auth(), middleware.staff()])

// Customer: what the calls have cost so far this month and today (the spend caps count it)
router
  .get('/app/spend', [SpendController, 'show'])
  .as('customer.spend')
  .use([middleware.auth(), middleware.customer()])
// Company admins: a member's own spend caps
router
  .put('/app/spend/users/:id', [SpendController, 'updateUserCaps'])
  .as('customer.spend.user_caps')
  .where('id', router.matchers.number())
  .use([middleware.auth(), middleware.customer()])
