import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const TransparencyController = () => import('#privacy/controllers/transparency_controller')
const InformationRequestController = () =>
  import('#privacy/controllers/information_request_controller')
const DpaController = () => import('#privacy/controllers/dpa_controller')
const UserPrivacyController = () => import('#privacy/controllers/user_privacy_controller')
const InformationRequestsController = () =>
  import('#privacy/controllers/admin/information_requests_controller')
const ProcessingRecordController = () =>
  import('#privacy/controllers/admin/processing_record_controller')
const DataBreachesController = () => import('#privacy/controllers/admin/data_breaches_controller')
const CallRecordHoldsController = () =>
  import('#privacy/controllers/admin/call_record_holds_controller')
const MyPrivacyController = () => import('#privacy/controllers/my_privacy_controller')
const AccountTerminationController = () =>
  import('#privacy/controllers/account_termination_controller')
const DataSubjectRequestsController = () =>
  import('#privacy/controllers/admin/data_subject_requests_controller')

// Public transparency pages: no login
router.get('/privacy', [TransparencyController, 'privacy']).as('privacy.statement')
// The link mailed to a new e-mail address (Art. 16): the token is the proof, no login needed
router
  .get('/account/email/confirm/:token', [MyPrivacyController, 'confirmEmail'])
  .as('account.email.confirm')
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
    // The record of processing activities (Art. 30 GDPR), generated from the registry
    router.get('/privacy/record', [ProcessingRecordController, 'show']).as('privacy.record')
    router
      .get('/privacy/record.json', [ProcessingRecordController, 'json'])
      .as('privacy.record.json')
    // Personal-data breaches (Art. 33, 34 GDPR): record, notify customers, the authority in 72 h
    router.get('/privacy/breaches', [DataBreachesController, 'index']).as('privacy.breaches.index')
    router.post('/privacy/breaches', [DataBreachesController, 'store']).as('privacy.breaches.store')
    router
      .get('/privacy/breaches/:id', [DataBreachesController, 'show'])
      .as('privacy.breaches.show')
      .where('id', router.matchers.number())
    router
      .post('/privacy/breaches/:id/notices', [DataBreachesController, 'notify'])
      .as('privacy.breaches.notify')
      .where('id', router.matchers.number())
    router
      .put('/privacy/breaches/:id/authority', [DataBreachesController, 'authority'])
      .as('privacy.breaches.authority')
      .where('id', router.matchers.number())
    router
      .put('/privacy/breaches/:id/close', [DataBreachesController, 'close'])
      .as('privacy.breaches.close')
      .where('id', router.matchers.number())
    // Call records held for billing disputes (TDDDG § 10)
    router.get('/privacy/holds', [CallRecordHoldsController, 'index']).as('privacy.holds.index')
    router.post('/privacy/holds', [CallRecordHoldsController, 'store']).as('privacy.holds.store')
    router
      .put('/privacy/holds/:id/release', [CallRecordHoldsController, 'release'])
      .as('privacy.holds.release')
      .where('id', router.matchers.number())
    // Data-subject requests (Art. 15-21 GDPR) with the Art. 12(3) deadline
    router
      .get('/privacy/data-requests', [DataSubjectRequestsController, 'index'])
      .as('privacy.data_requests.index')
    router
      .post('/privacy/data-requests', [DataSubjectRequestsController, 'store'])
      .as('privacy.data_requests.store')
    router
      .get('/privacy/data-requests/:id', [DataSubjectRequestsController, 'show'])
      .as('privacy.data_requests.show')
      .where('id', router.matchers.number())
    router
      .put('/privacy/data-requests/:id/extend', [DataSubjectRequestsController, 'extend'])
      .as('privacy.data_requests.extend')
      .where('id', router.matchers.number())
    router
      .put('/privacy/data-requests/:id/close', [DataSubjectRequestsController, 'close'])
      .as('privacy.data_requests.close')
      .where('id', router.matchers.number())
    router
      .post('/privacy/data-requests/:id/erase', [DataSubjectRequestsController, 'erase'])
      .as('privacy.data_requests.erase')
      .where('id', router.matchers.number())
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
    router
      .post('/privacy/users/:id/erase', [UserPrivacyController, 'erase'])
      .as('privacy.user.erase')
      .where('id', router.matchers.number())
    // The user's own rights: export, rectification, erasure and objection requests
    router.get('/privacy', [MyPrivacyController, 'show']).as('privacy.mine')
    router.post('/privacy/export', [MyPrivacyController, 'requestExport']).as('privacy.export')
    router
      .get('/privacy/exports/:id', [MyPrivacyController, 'download'])
      .as('privacy.export.download')
      .where('id', router.matchers.number())
    router.post('/privacy/requests', [MyPrivacyController, 'fileRequest']).as('privacy.request')
    router.post('/privacy/profile', [MyPrivacyController, 'updateProfile']).as('privacy.profile')
    // The owner ends the company's account (end of the month), withdrawable until then
    router.get('/account/end', [AccountTerminationController, 'show']).as('account.end')
    router.post('/account/end', [AccountTerminationController, 'store']).as('account.end.store')
    router
      .post('/account/end/withdraw', [AccountTerminationController, 'withdraw'])
      .as('account.end.withdraw')
  })
  .prefix('/app')
  .as('customer')
  .use([middleware.auth(), middleware.customer()])
