import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const TransparencyController = () => import('#privacy/controllers/transparency_controller')
const InformationRequestController = () =>
  import('#privacy/controllers/information_request_controller')
const DpaController = () => import('#privacy/controllers/dpa_controller')
const UserPrivacyController = () => import('#privacy/controllers/user_privacy_controller')
const InformationRequestsController = () =>
  import('#privacy/controllers/admin/information_requests_controller')

// Public transparency pages: no login
router.get('/privacy', [TransparencyController, 'privacy']).as('privacy.statement')
router
  .group(() => {
    router.get('/', [TransparencyController, 'index']).as('index')
    router.get('/sub-processors', [TransparencyController, 'subProcessors']).as('sub_processors')
    router.get('/sub-processors.json', [TransparencyController, 'json']).as('json')
    router.get('/toms', [TransparencyController, 'toms']).as('toms')
    router.get('/toms.json', [TransparencyController, 'tomsJson']).as('toms_json')
    router.get('/transfers', [TransparencyController, 'transfers']).as('transfers')
    router.get('/sccs', [TransparencyController, 'sccs']).as('sccs')
    router.get('/sccs/:key/annexes.txt', [TransparencyController, 'annex']).as('annex')
    router.get('/history', [TransparencyController, 'history']).as('history')
    router.get('/feed.atom', [TransparencyController, 'feed']).as('feed')
    router.get('/request', [InformationRequestController, 'create']).as('request.create')
    router.post('/request', [InformationRequestController, 'store']).as('request.store')
  })
  .prefix('/transparency')
  .as('transparency')

// Admin: the information-request queue (privacy role)
router
  .group(() => {
    router
      .get('/privacy/requests', [InformationRequestsController, 'index'])
      .as('privacy.requests.index')
    router
      .put('/privacy/requests/:id/answered', [InformationRequestsController, 'answer'])
      .as('privacy.requests.answer')
  })
  .prefix('/admin')
  .as('admin')
  .use([middleware.auth(), middleware.staff()])

// Customer area: the data processing agreement (Art. 28 GDPR) and the admins' privacy tools
router
  .group(() => {
    router.get('/dpa', [DpaController, 'show']).as('dpa')
    router.post('/dpa/accept', [DpaController, 'accept']).as('dpa.accept')
    router
      .get('/dpa/acceptances/:id/pdf', [DpaController, 'download'])
      .as('dpa.download')
      .where('id', router.matchers.number())
    // The admins' tools for one user's data (the company is controller, FluffyCall its processor)
    router
      .get('/privacy/users/:id', [UserPrivacyController, 'show'])
      .as('privacy.user')
      .where('id', router.matchers.number())
    router
      .post('/privacy/users/:id/restriction', [UserPrivacyController, 'restrict'])
      .as('privacy.user.restrict')
      .where('id', router.matchers.number())
    router
      .delete('/privacy/users/:id/restriction', [UserPrivacyController, 'lift'])
      .as('privacy.user.lift')
      .where('id', router.matchers.number())
  })
  .prefix('/app')
  .as('customer')
  .use([middleware.auth(), middleware.customer()])
