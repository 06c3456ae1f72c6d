import router from '@adonisjs/core/services/router'

const HealthController = () => import('#core/controllers/health_controller')
const LocaleController = () => import('#core/controllers/locale_controller')
const MetricsController = () => import('#core/controllers/metrics_controller')

router.get('/healthz', [HealthController, 'alive']).as('health.alive')
router.get('/readyz', [HealthController, 'ready']).as('health.ready')
router.get('/metrics', [MetricsController, 'show']).as('metrics')
router.get('/locale/:locale', [LocaleController, 'update']).as('locale.update')

router.on('/').render('pages/public/landing').as('home')
