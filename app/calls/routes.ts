import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const CarriersController = () => import('#calls/controllers/admin/carriers_controller')
const SubProcessorsController = () => import('#calls/controllers/sub_processors_controller')
const CallFiguresController = () => import('#calls/controllers/admin/call_figures_controller')

// Admin: carriers (carriers.manage)
router
  .group(() => {
    router.get('/carriers', [CarriersController, 'index']).as('carriers.index')
    router.get('/carriers/:name', [CarriersController, 'show']).as('carriers.show')
    router
      .put('/carriers/:name/credentials', [CarriersController, 'updateCredentials'])
      .as('carriers.credentials')
    router
      .put('/carriers/:name/enabled', [CarriersController, 'updateEnabled'])
      .as('carriers.enabled')
    router
      .post('/carriers/:name/announce', [CarriersController, 'announce'])
      .as('carriers.announce')
    router
      .post('/carriers/:name/activate', [CarriersController, 'activate'])
      .as('carriers.activate')
    router
      .post('/carriers/:name/withdraw', [CarriersController, 'withdraw'])
      .as('carriers.withdraw')
  })
  .prefix('/admin')
  .as('admin')
  .use([middleware.auth(), middleware.staff()])

// Admin: the dashboard's call figures (every staff member: aggregates, nothing personal)
router
  .get('/admin/calls/figures', [CallFiguresController, 'show'])
  .as('admin.calls.figures')
  .use([middleware.auth(), middleware.staff()])

// Customer: sub-processors, notices, objections
router
  .group(() => {
    router.get('/sub-processors', [SubProcessorsController, 'index']).as('sub_processors')
    router
      .post('/sub-processors/:name/objection', [SubProcessorsController, 'object'])
      .as('sub_processors.object')
  })
  .prefix('/app')
  .as('customer')
  .use([middleware.auth(), middleware.customer()])

import '#calls/routes/numbers'
import '#calls/routes/live_calls'
import '#calls/routes/phone'
