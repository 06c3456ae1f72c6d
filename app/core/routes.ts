import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const HealthController = () => import('#core/controllers/health_controller')
const LocaleController = () => import('#core/controllers/locale_controller')
const MetricsController = () => import('#core/controllers/metrics_controller')

router.get('/healthz', [HealthController, 'alive']).as('health.alive')
router.get('/readyz', [HealthController, 'ready']).as('health.ready')
router.get('/metrics', [MetricsController, 'show']).as('metrics')
router.get('/locale/:locale', [LocaleController, 'update']).as('locale.update')

router.on('/').render('pages/public/landing').as('home')

const AlertsController = () => import('#core/controllers/admin/alerts_controller')

// Admin: the one alert channel's alerts (alerts.view)
router
  .group(() => {
    router.get('/alerts', [AlertsController, 'index']).as('alerts.index')
    router
      .get('/alerts/:id', [AlertsController, 'show'])
      .as('alerts.show')
      .where('id', router.matchers.number())
  })
  .prefix('/admin')
  .as('admin')
  .use([middleware.auth(), middleware.staff()])
