import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const AdminNumbersController = () => import('#calls/controllers/admin/numbers_controller')
const RoutesController = () => import('#calls/controllers/admin/routes_controller')
const NumbersController = () => import('#calls/controllers/numbers_controller')
const ExtensionsController = () => import('#calls/controllers/extensions_controller')
const NumberForwardingController = () => import('#calls/controllers/number_forwarding_controller')

// Admin: phone numbers (numbers.manage) and the routing table (carriers.manage)
router
  .group(() => {
    router.get('/numbers', [AdminNumbersController, 'index']).as('numbers.index')
    router
      .get('/numbers/import', [AdminNumbersController, 'createImport'])
      .as('numbers.import.create')
    router.post('/numbers/import', [AdminNumbersController, 'import']).as('numbers.import')
    router
      .get('/numbers/assign', [AdminNumbersController, 'createAssignment'])
      .as('numbers.assign.create')
    router.post('/numbers/assign', [AdminNumbersController, 'assign']).as('numbers.assign')
    router
      .get('/numbers/block', [AdminNumbersController, 'createBlockAction'])
      .as('numbers.block.create')
    router.post('/numbers/block', [AdminNumbersController, 'blockAction']).as('numbers.block')
    router
      .post('/numbers/:id/release', [AdminNumbersController, 'release'])
      .as('numbers.release')
      .where('id', router.matchers.number())
    // Port-out to another provider: requested, then completed (the number leaves the inventory)
    router
      .post('/numbers/:id/port-out', [AdminNumbersController, 'requestPortOut'])
      .as('numbers.port_out')
      .where('id', router.matchers.number())
    router
      .post('/numbers/:id/port-out/complete', [AdminNumbersController, 'completePortOut'])
      .as('numbers.port_out.complete')
      .where('id', router.matchers.number())
    router
      .delete('/numbers/:id', [AdminNumbersController, 'destroy'])
      .as('numbers.destroy')
      .where('id', router.matchers.number())

    router.get('/routes', [RoutesController, 'home']).as('routes.home')
    router.get('/routes/:region', [RoutesController, 'index']).as('routes.index')
    router.post('/routes/:region', [RoutesController, 'store']).as('routes.store')
    router
      .get('/routes/:region/:id/edit', [RoutesController, 'edit'])
      .as('routes.edit')
      .where('id', router.matchers.number())
    router
      .put('/routes/:region/:id', [RoutesController, 'update'])
      .as('routes.update')
      .where('id', router.matchers.number())
    router
      .delete('/routes/:region/:id', [RoutesController, 'destroy'])
      .as('routes.destroy')
      .where('id', router.matchers.number())
  })
  .prefix('/admin')
  .as('admin')
  .use([middleware.auth(), middleware.staff()])

// Customer: the company's numbers, their users, forwarding and default caller IDs (numbers.assign)
router
  .group(() => {
    router.get('/numbers', [NumbersController, 'index']).as('numbers')
    router
      .put('/numbers/:id/user', [NumbersController, 'assignUser'])
      .as('numbers.user')
      .where('id', router.matchers.number())
    router
      .get('/numbers/:id/forwarding', [NumberForwardingController, 'show'])
      .as('numbers.forwarding')
      .where('id', router.matchers.number())
    router
      .put('/numbers/:id/forwarding', [NumberForwardingController, 'update'])
      .as('numbers.forwarding.update')
      .where('id', router.matchers.number())
    router
      .put('/caller-ids/:userId', [NumbersController, 'setDefault'])
      .as('numbers.default')
      .where('userId', router.matchers.number())
    router
      .put('/extensions/:userId', [ExtensionsController, 'update'])
      .as('extensions.update')
      .where('userId', router.matchers.number())
  })
  .prefix('/app')
  .as('customer')
  .use([middleware.auth(), middleware.customer()])
