import router from '@adonisjs/core/services/router'
import { middleware } from '#start/kernel'

const SessionController = () => import('#accounts/controllers/session_controller')
const SignupController = () => import('#accounts/controllers/signup_controller')
const PasswordResetController = () => import('#accounts/controllers/password_reset_controller')
const InvitationController = () => import('#accounts/controllers/invitation_controller')
const AccountController = () => import('#accounts/controllers/account_controller')
const TeamController = () => import('#accounts/controllers/team_controller')
const AuditController = () => import('#accounts/controllers/audit_controller')
const DashboardController = () => import('#accounts/controllers/dashboard_controller')
const CompaniesController = () => import('#accounts/controllers/admin/companies_controller')
const RolesController = () => import('#accounts/controllers/admin/roles_controller')
const StaffController = () => import('#accounts/controllers/admin/staff_controller')

// Public: sign-up, login, password reset, invitations
router
  .group(() => {
    router.get('/signup', [SignupController, 'create']).as('signup.create')
    router.post('/signup', [SignupController, 'store']).as('signup.store')
    router.get('/signup/confirm/:token', [SignupController, 'confirm']).as('signup.confirm')
    router.get('/login', [SessionController, 'create']).as('session.create')
    router.post('/login', [SessionController, 'store']).as('session.store')
    router.get('/login/2fa', [SessionController, 'showTwoFactor']).as('session.two_factor.show')
    router
      .post('/login/2fa', [SessionController, 'verifyTwoFactor'])
      .as('session.two_factor.verify')
    router.get('/password/forgot', [PasswordResetController, 'create']).as('password.forgot')
    router.post('/password/forgot', [PasswordResetController, 'store']).as('password.send')
    router.get('/password/reset/:token', [PasswordResetController, 'edit']).as('password.edit')
    router.post('/password/reset', [PasswordResetController, 'update']).as('password.update')
  })
  .use(middleware.guest())

router.get('/invitations/:token', [InvitationController, 'show']).as('invitations.show')
router.post('/invitations', [InvitationController, 'accept']).as('invitations.accept')

// Every logged-in user: own security settings
router
  .group(() => {
    router.post('/logout', [SessionController, 'destroy']).as('session.destroy')
    router.get('/account/security', [AccountController, 'show']).as('account.security')
    router
      .delete('/account/sessions/:id', [AccountController, 'revokeSession'])
      .as('account.sessions.revoke')
      .where('id', router.matchers.number())
    router
      .delete('/account/sessions', [AccountController, 'revokeOtherSessions'])
      .as('account.sessions.revoke_others')
    router.post('/account/password', [AccountController, 'changePassword']).as('account.password')
    router.get('/account/2fa', [AccountController, 'showTwoFactor']).as('account.two_factor.show')
    router
      .post('/account/2fa', [AccountController, 'enableTwoFactor'])
      .as('account.two_factor.enable')
    router
      .delete('/account/2fa', [AccountController, 'disableTwoFactor'])
      .as('account.two_factor.disable')
  })
  .use(middleware.auth())

// Customer area
router
  .group(() => {
    router.get('/', [DashboardController, 'customer']).as('dashboard')
    router.get('/team', [TeamController, 'index']).as('team')
    router.post('/team/invitations', [TeamController, 'invite']).as('team.invite')
    router.delete('/team/invitations/:id', [TeamController, 'revoke']).as('team.revoke')
    router.put('/team/users/:id/role', [TeamController, 'changeRole']).as('team.role')
    router.post('/team/step-down', [TeamController, 'stepDown']).as('team.step_down')
    router.post('/ownership/accept', [TeamController, 'acceptOwnership']).as('ownership.accept')
    router.get('/audit', [AuditController, 'company']).as('audit')
    router
      .put('/emergency-location', [AccountController, 'updateEmergencyLocation'])
      .as('emergency_location')
  })
  .prefix('/app')
  .as('customer')
  .use([middleware.auth(), middleware.customer()])

// Admin area (staff)
router
  .group(() => {
    router.get('/', [DashboardController, 'admin']).as('dashboard')
    router.get('/companies', [CompaniesController, 'index']).as('companies.index')
    router.get('/companies/:id', [CompaniesController, 'show']).as('companies.show')
    router
      .put('/companies/:id/status', [CompaniesController, 'updateStatus'])
      .as('companies.status')
    router.get('/roles', [RolesController, 'index']).as('roles.index')
    router.put('/roles', [RolesController, 'update']).as('roles.update')
    router.get('/audit', [AuditController, 'admin']).as('audit')
    router.get('/staff', [StaffController, 'index']).as('staff.index')
    router.post('/staff', [StaffController, 'store']).as('staff.store')
    router.put('/staff/:id/role', [StaffController, 'updateRole']).as('staff.role')
    router.put('/staff/:id/disabled', [StaffController, 'updateDisabled']).as('staff.disabled')
  })
  .prefix('/admin')
  .as('admin')
  .use([middleware.auth(), middleware.staff()])
