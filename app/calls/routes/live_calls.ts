import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const LiveCallsController = () => import('#calls/controllers/admin/live_calls_controller')

// Admin: running calls, and ended calls with bad audio (calls.live.manage)
router
  .group(() => {
    router.get('/calls/live', [LiveCallsController, 'index']).as('calls.live')
    router.get('/calls/quality', [LiveCallsController, 'quality']).as('calls.quality')
    router.delete('/calls/live/:uuid', [LiveCallsController, 'destroy']).as('calls.end')
  })
  .prefix('/admin')
  .as('admin')
  .use([middleware.auth(), middleware.staff()])
