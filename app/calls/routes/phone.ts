import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const PhoneController = () => import('#calls/controllers/phone_controller')
const DevicesController = () => import('#calls/controllers/devices_controller')
const CallHistoryController = () => import('#calls/controllers/call_history_controller')
const PhoneSettingsController = () => import('#calls/controllers/phone_settings_controller')
const LineSettingsController = () => import('#calls/controllers/line_settings_controller')
const CallForwardingController = () => import('#calls/controllers/call_forwarding_controller')

// Customer: the web phone, its SIP login, phone settings, call forwarding, own SIP phones, call history
router
  .group(() => {
    router.get('/phone', [PhoneController, 'show']).as('phone')
    router.post('/phone/credential', [PhoneController, 'credential']).as('phone.credential')
    router.get('/phone/settings', [PhoneSettingsController, 'show']).as('phone_settings')
    router.put('/phone/settings', [PhoneSettingsController, 'update']).as('phone_settings.update')
    router
      .put('/phone/settings/company', [PhoneSettingsController, 'updateCompany'])
      .as('phone_settings.company')
    router.get('/phone/line', [LineSettingsController, 'show']).as('phone_line')
    router.put('/phone/line', [LineSettingsController, 'update']).as('phone_line.update')
    router.get('/phone/colleagues', [LineSettingsController, 'colleagues']).as('phone_colleagues')
    router
      .put('/phone/settings/presence', [LineSettingsController, 'updatePresence'])
      .as('phone_settings.presence')
    router.get('/phone/forwarding', [CallForwardingController, 'show']).as('phone_forwarding')
    router
      .put('/phone/forwarding', [CallForwardingController, 'update'])
      .as('phone_forwarding.update')
    router.get('/devices', [DevicesController, 'index']).as('devices')
    router.post('/devices', [DevicesController, 'store']).as('devices.store')
    router
      .delete('/devices/:id', [DevicesController, 'destroy'])
      .as('devices.destroy')
      .where('id', router.matchers.number())
    router.post('/devices/locks/lift', [DevicesController, 'liftLock']).as('devices.locks.lift')
    router
      .put('/devices/encryption', [DevicesController, 'updateEncryption'])
      .as('devices.encryption')
    router.get('/calls', [CallHistoryController, 'index']).as('calls')
  })
  .prefix('/app')
  .as('customer')
  .use([middleware.auth(), middleware.customer()])

const SipLocksController = () => import('#calls/controllers/admin/sip_locks_controller')

// Admin: brute-force locks of SIP logins (sip.locks.lift)
router
  .group(() => {
    router.get('/sip-locks', [SipLocksController, 'index']).as('sip_locks')
    router.post('/sip-locks/lift', [SipLocksController, 'lift']).as('sip_locks.lift')
  })
  .prefix('/admin')
  .as('admin')
  .use([middleware.auth(), middleware.staff()])
