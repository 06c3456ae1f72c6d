/*
 * HTTP kernel: global and named middleware.
 */
import router from '@adonisjs/core/services/router'
import server from '@adonisjs/core/services/server'

server.errorHandler(() => import('#core/exceptions/handler'))

server.use([
  () => import('#core/middleware/http_metrics_middleware'),
  () => import('#core/middleware/container_bindings_middleware'),
  () => import('#core/middleware/probe_middleware'),
  () => import('@adonisjs/static/static_middleware'),
  () => import('@adonisjs/vite/vite_middleware'),
])

router.use([
  () => import('@adonisjs/core/bodyparser_middleware'),
  () => import('@adonisjs/session/session_middleware'),
  () => import('@adonisjs/shield/shield_middleware'),
  () => import('#core/middleware/detect_locale_middleware'),
  () => import('@adonisjs/auth/initialize_auth_middleware'),
  () => import('#core/middleware/silent_auth_middleware'),
  () => import('#accounts/middleware/web_session_middleware'),
  () => import('#core/middleware/initialize_bouncer_middleware'),
])

export const middleware = router.named({
  guest: () => import('#core/middleware/guest_middleware'),
  auth: () => import('#core/middleware/auth_middleware'),
  customer: () => import('#core/middleware/customer_middleware'),
  staff: () => import('#core/middleware/staff_middleware'),
})
