/*
 * Routes: each module owns its routes.ts; this file only imports them.
 */
import '#core/routes'
import '#accounts/routes'
import '#calls/routes'
import '#fraud/routes'
import '#privacy/routes'
import '#billing/routes'
