/*
 * Event listeners across modules are registered here (calls events reach fraud, billing, privacy).
 */
import emitter from '@adonisjs/core/services/emitter'
import { contributeToCdrEnd } from '#calls/b2bua/cdr_end_writes'

const RevokeWebPhoneAccess = () => import('#calls/listeners/revoke_web_phone_access')
const EndWebSessions = () => import('#accounts/listeners/end_web_sessions')
const EndCompanyCalls = () => import('#calls/listeners/end_company_calls')
const ReleaseCompanyNumbers = () => import('#calls/listeners/release_company_numbers')
const ReleaseCallLease = () => import('#fraud/listeners/release_call_lease')
const AnalyseCall = () => import('#fraud/listeners/analyse_call')
const CountSpend = () => import('#fraud/listeners/count_spend')
const RateCall = () => import('#billing/listeners/rate_call')
const CallMetrics = () => import('#calls/metrics/call_metrics')

// accounts: a changed password, a disabled user or a terminated company ends the web sessions
emitter.on('user:password_changed', [EndWebSessions, 'passwordChanged'])
emitter.on('user:disabled', [EndWebSessions, 'userDisabled'])
emitter.on('company:status_changed', [EndWebSessions, 'companyStatusChanged'])

// accounts → calls: ended sessions and accounts lose their web phone logins and SIP connections
emitter.on('user:logged_out', [RevokeWebPhoneAccess, 'loggedOut'])
emitter.on('user:password_changed', [RevokeWebPhoneAccess, 'passwordChanged'])
emitter.on('user:disabled', [RevokeWebPhoneAccess, 'userDisabled'])
emitter.on('user:removed', [RevokeWebPhoneAccess, 'userRemoved'])
emitter.on('company:status_changed', [RevokeWebPhoneAccess, 'companyStatusChanged'])
emitter.on('company:status_changed', [EndCompanyCalls, 'companyStatusChanged'])
// privacy → calls: at account end the company's numbers go back, into quarantine
emitter.on('company:account_ended', [ReleaseCompanyNumbers, 'accountEnded'])

// calls → fraud: an ended call releases its concurrent-call lease
emitter.on('call:ended', [ReleaseCallLease, 'handle'])
// calls → fraud: every ended (or refused) call is held against the company's baseline, in a job
emitter.on('call:ended', [AnalyseCall, 'handle'])

// calls → billing: every CDR is rated once when its call ends, in the end's own write (issue 17:
// one statement per call fewer); the listener announces the cost, or rates what the end did not
emitter.on('call:ended', [RateCall, 'handle'])
// (the module is imported once and kept: an import() per call went through the module resolver
// each time, a tenth of the server's CPU per call under ts-exec; a failed import is tried again)
let ratingModule: Promise<typeof import('#billing/services/rating_service')> | null = null
contributeToCdrEnd(async (record) => {
  ratingModule ??= import('#billing/services/rating_service').catch((error) => {
    ratingModule = null
    throw error
  })
  const { default: RatingService } = await ratingModule
  return new RatingService().endWrite(record)
})

// calls → metrics: attempts, answers, setup time and outcomes by cause per carrier (/metrics)
emitter.on('call:attempted', [CallMetrics, 'attempted'])
emitter.on('call:answered', [CallMetrics, 'answered'])
emitter.on('call:ended', [CallMetrics, 'ended'])

// billing → fraud: a rated call's cost joins the spend counters the gate's caps read
emitter.on('billing:call_rated', [CountSpend, 'handle'])
