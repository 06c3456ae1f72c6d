import router from '@adonisjs/core/services/router'

const HealthController = () => import('#core/controllers/health_controller')
const LocaleController = () => import('#core/controllers/locale_controller')

router.get('/healthz', [HealthController, 'alive']).as('health.alive')
router.get('/readyz', [HealthController, 'ready']).as('health.ready')
router.get('/locale/:locale', [LocaleController, 'update']).as('locale.update')

router.on('/').render('pages/public/landing').as('home')
