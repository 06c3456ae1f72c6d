import type { ApplicationService } from '@adonisjs/core/types'
import type B2bua from '#calls/b2bua/b2bua'
import type WebPhoneDisconnects from '#calls/b2bua/web_phone_disconnects'
import type { MediaEngine } from '#media'
import { CallGateRegistry } from '#calls/gates/call_gate'
import readiness from '#core/services/readiness'
import lifecycle from '#core/services/lifecycle'
import type { CallsConfig } from '#config/calls'

/** How many of one's last calls the customer overview shows. */
const RECENT_CALLS = 5

/**
 * Assembles the call path: the call gates (company active, the fraud seam), the media engine
 * and the B2BUA on top of the SIP stack. When the app serves it first ends the calls a crashed
 * predecessor left behind, then takes INVITEs; on shutdown it drains (503 to new calls, running
 * calls finish or are ended after CALL_DRAIN_SECONDS).
 */
export default class CallsProvider {
  #b2bua: B2bua | undefined
  #media: MediaEngine | undefined
  #drained: Promise<void> | undefined
  #sweeper: NodeJS.Timeout | undefined
  /** The sweep under way: shutdown waits for it, so it never asks the closing pool for a connection. */
  #sweeping: Promise<void> | null = null
  #stopping = false
  #disconnects: WebPhoneDisconnects | undefined

  constructor(protected app: ApplicationService) {}

  register() {
    this.app.container.singleton(CallGateRegistry, async () => {
      const { default: CompanyActiveGate } = await import('#calls/gates/company_active_gate')
      const { default: PermissiveFraudGate } = await import('#calls/gates/fraud_gate')
      const gates = new CallGateRegistry()
      gates.register(new CompanyActiveGate())
      gates.register(new PermissiveFraudGate())
      return gates
    })
    this.app.container.alias('calls.gates', CallGateRegistry)

    this.app.container.singleton('media.engine', async () => {
      const { default: mediaConfig, mediaEngineChoice: choice } = await import('#config/media')
      let engine: MediaEngine
      if (choice.engine === 'rtpengine') {
        const { RtpengineMediaEngine } = await import('#media')
        const logger = await this.app.container.make('logger')
        engine = new RtpengineMediaEngine({
          ng: choice.ng,
          innerAddress: choice.innerAddress,
          commandTimeoutMs: choice.commandTimeoutMs,
          mediaTimeoutSeconds: mediaConfig.mediaTimeoutSeconds,
          onError: (err, context) => logger.warn({ err, context }, 'rtpengine command failed'),
          // Its legs carry the node's id: another node ends them if this one dies
          owner: this.app.config.get<CallsConfig>('calls').nodeId,
        })
      } else if (choice.workers > 0) {
        await this.#warnWithoutNativePacketPath(mediaConfig.packetPath)
        const { WorkerMediaEngine } = await import('#media')
        const logger = await this.app.container.make('logger')
        const workers = new WorkerMediaEngine({
          ...mediaConfig,
          workers: choice.workers,
          maxHeapMb: choice.maxHeapMb,
          onEvent: (event) => {
            if (event.kind === 'started')
              logger.info({ worker: event.worker, pid: event.pid }, 'media worker started')
            else if (event.kind === 'hung')
              logger.error(
                { worker: event.worker, pid: event.pid, silentMs: event.silentMs },
                'media worker hung (no heartbeat answer); it is killed'
              )
            else if (event.kind === 'exited' && event.closing)
              logger.info({ worker: event.worker, pid: event.pid }, 'media worker stopped')
            else if (event.kind === 'exited')
              logger.error(
                {
                  worker: event.worker,
                  pid: event.pid,
                  code: event.code,
                  signal: event.signal,
                  legs: event.legs,
                },
                'media worker ended; its calls end, the worker is restarted'
              )
            else
              logger.warn(
                { err: event.error, worker: event.worker, context: event.context },
                'media worker command failed'
              )
          },
        })
        await workers.started()
        engine = workers
      } else {
        await this.#warnWithoutNativePacketPath(mediaConfig.packetPath)
        const { WeriftMediaEngine } = await import('#media')
        engine = new WeriftMediaEngine(mediaConfig)
      }
      this.#media = engine
      return engine
    })

    this.app.container.singleton('calls.b2bua', async (resolver) => {
      const { buildB2bua } = await import('#calls/b2bua/b2bua_factory')
      const b2bua = await buildB2bua(resolver)
      this.#disconnects = await this.#watchWebPhones(
        b2bua,
        this.app.config.get<CallsConfig>('calls')
      )
      return b2bua
    })
  }

  /** The docked phone (components/phone_dock.edge) renders on every customer page. */
  /** Says so at start when the built-in engine's C++ packet path cannot be loaded. */
  async #warnWithoutNativePacketPath(packetPath: 'native' | 'typescript' | undefined) {
    if (packetPath === 'typescript') return
    const { nativeUnavailable } = await import('#media')
    const reason = nativeUnavailable()
    if (!reason) return
    const logger = await this.app.container.make('logger')
    logger.warn(
      { reason },
      'media runs its per-packet work in TypeScript (more CPU per packet): the C++ packet path is not available'
    )
  }

  async boot() {
    const { default: edge } = await import('edge.js')
    const { phoneScriptTexts } = await import('#calls/services/phone_script_texts')
    edge.global('phoneScriptTexts', phoneScriptTexts)
    edge.global('echoTestNumber', this.app.config.get<CallsConfig>('calls').echoNumber)
    // The web phone's end-to-end encryption test hooks (resources/js/phone/e2ee): tests only.
    edge.global('phoneTestHooks', this.app.inTest)
    // The origins the SIP WebSocket accepts: the phone explains itself when opened elsewhere.
    edge.global(
      'sipAllowedOrigins',
      this.app.config.get<{ ws: { allowedOrigins: string[] } }>('sip').ws.allowedOrigins
    )
    // The customer overview: one's last calls, missed ones marked (as in the call history).
    const { default: DashboardPanels } = await import('#core/services/dashboard_panels')
    const panels = await this.app.container.make(DashboardPanels)
    panels.registerForCustomers({
      key: 'recent_calls',
      component: 'components/recent_calls_panel',
      data: async (viewer) => {
        if (!(await viewer.can('calls.history.view'))) return null
        const { default: User } = await import('#accounts/models/user')
        const { default: Company } = await import('#accounts/models/company')
        const { default: CallHistoryService } = await import('#calls/services/call_history_service')
        const user = await User.findOrFail(viewer.userId)
        const company = await Company.findOrFail(viewer.companyId)
        const { entries } = await new CallHistoryService().page(user, {
          scope: 'own',
          page: 1,
          perPage: RECENT_CALLS,
          itemised: company.itemisedNumbers,
        })
        return { entries }
      },
    })
  }

  /**
   * Until the B2BUA is ready (crash recovery may take a moment), INVITEs get 503 with
   * Retry-After: a carrier tries again or fails over instead of taking 480 as the callee's answer.
   */
  async start() {
    if (this.app.getEnvironment() !== 'web' || this.app.getMode() === 'warmup') return
    readiness.starting('calls')
    const stack = await this.app.container.make('sip.stack')
    stack.core.setInviteHandler((invite) =>
      invite.reject(503, { reason: 'Starting', headers: [['Retry-After', '5']] })
    )
  }

  /**
   * The web server takes calls at once. Tests start the B2BUA themselves (after their database
   * is migrated), because SIP stack tests install their own INVITE handlers.
   */
  async ready() {
    if (this.app.getEnvironment() !== 'web' || this.app.getMode() === 'warmup') return
    await this.#shareRoutingChanges()
    const b2bua = await this.app.container.make('calls.b2bua')
    const recovered = await b2bua.recover()
    if (recovered > 0) {
      const logger = await this.app.container.make('logger')
      logger.warn({ recovered }, 'ended calls left behind by a previous process')
    }
    b2bua.start()
    this.#b2bua = b2bua
    // A front's health check (Kamailio's dispatcher, a load balancer): a draining node answers 503
    // and gets no new calls, while its running calls go on.
    const stack = await this.app.container.make('sip.stack')
    const retryAfter = String(this.app.config.get<CallsConfig>('calls').retryAfterSeconds)
    stack.core.setHandler('OPTIONS', (request) => {
      if (b2bua.draining) {
        request.respond(503, { reason: 'Draining', headers: [['Retry-After', retryAfter]] })
      } else {
        request.respond(200)
      }
    })
    this.#startSweeper(b2bua)
    readiness.ready('calls')
    // Terminating hooks run last-registered first, so this one runs before the HTTP server's own
    // (registered when it started listening): that one waits for every connection, the web phones'
    // SIP WebSockets included, and the drain would otherwise never begin.
    this.app.terminating(() => this.#drain())
  }

  /** With Redis, a route or carrier changed on one node reloads the routing tables on all. */
  async #shareRoutingChanges() {
    const { redisEnabled, default: redisConfig } = await import('#config/redis')
    if (!redisEnabled) return
    const { shareRoutingChanges } = await import('#calls/routing/routing_changes')
    const stop = shareRoutingChanges(await this.app.container.make('redis'), {
      prefix: redisConfig.connections.main.keyPrefix ?? '',
      nodeId: this.app.config.get<CallsConfig>('calls').nodeId,
    })
    this.app.terminating(stop)
    // The same for the lookups calls keep (devices, users, companies: #core/caching/lookup_changes)
    const { shareLookupChanges } = await import('#core/caching/lookup_changes')
    const stopLookups = shareLookupChanges(await this.app.container.make('redis'), {
      prefix: redisConfig.connections.main.keyPrefix ?? '',
      nodeId: this.app.config.get<CallsConfig>('calls').nodeId,
    })
    this.app.terminating(stopLookups)
    await this.#watchFrontFlows(this.app.config.get<CallsConfig>('calls'))
  }

  /**
   * Behind a SIP front, a browser's WebSocket ends there: the front publishes the closed flow on
   * Redis and every node removes its bindings (and ends this node's calls over it).
   */
  async #watchFrontFlows(config: CallsConfig) {
    const { default: redisConfig } = await import('#config/redis')
    const { default: FrontFlowClosures } = await import('#calls/b2bua/front_flow_closures')
    const { SystemClock } = await import('#sip')
    const stack = await this.app.container.make('sip.stack')
    const b2bua = await this.app.container.make('calls.b2bua')
    const logger = await this.app.container.make('logger')
    const closures = new FrontFlowClosures({
      bus: await this.app.container.make('redis'),
      prefix: redisConfig.connections.main.keyPrefix ?? '',
      removeBindings: (flow) => stack.removeFlow(flow),
      endCallsOn: (flow, how) => b2bua.endCallsOn(flow, how),
      graceSeconds: config.webPhoneReconnectGraceSeconds,
      clock: new SystemClock(),
      onError: (error) => logger.error({ err: error }, 'could not handle a closed front flow'),
    })
    closures.start()
    this.app.terminating(() => closures.stop())
  }

  /**
   * Every sweep interval this node notes that it lives, closes the CDRs of its calls that no
   * longer exist and those of nodes that have gone silent.
   */
  #startSweeper(b2bua: B2bua) {
    const config = this.app.config.get<CallsConfig>('calls')
    void (async () => {
      const { default: CallSweeper } = await import('#calls/b2bua/call_sweeper')
      const { default: CdrService } = await import('#calls/b2bua/cdr_service')
      const logger = await this.app.container.make('logger')
      const sweeper = new CallSweeper(b2bua, new CdrService(), {
        nodeId: config.nodeId,
        nodeLostAfterSeconds: config.nodeLostAfterSeconds,
        setupGraceSeconds: 120,
      })
      const run = () => {
        // A sweep still running when SIGTERM came would query after the database pool closed and
        // hold the process for the pool's acquire timeout (60 s): none starts once stopping
        if (this.#stopping || this.#sweeping) return this.#sweeping ?? Promise.resolve()
        this.#sweeping = sweeper
          .sweep()
          .then(
            (result) => {
              if (result.lost || result.lostNodes.length)
                logger.warn(result, 'closed the CDRs of calls that no longer exist')
            },
            (error) => logger.error({ err: error }, 'call sweep failed')
          )
          .finally(() => (this.#sweeping = null))
        return this.#sweeping
      }
      await run()
      if (this.#stopping) return
      this.#sweeper = setInterval(run, config.sweepIntervalSeconds * 1000)
      this.#sweeper.unref()
    })()
  }

  /** A closed or dropped web phone socket ends its calls (not only after the media timeout). */
  async #watchWebPhones(b2bua: B2bua, config: CallsConfig) {
    const { default: WebPhoneDisconnectsClass } = await import('#calls/b2bua/web_phone_disconnects')
    const { SystemClock } = await import('#sip')
    const stack = await this.app.container.make('sip.stack')
    const logger = await this.app.container.make('logger')
    const disconnects = new WebPhoneDisconnectsClass({
      onConnectionClosed: (listener) => stack.onConnectionClosed(listener),
      endCallsOn: (connectionId, how) => b2bua.endCallsOn(connectionId, how),
      graceSeconds: config.webPhoneReconnectGraceSeconds,
      clock: new SystemClock(),
      onError: (error) =>
        logger.error({ err: error }, 'could not end the calls of a closed web phone'),
    })
    disconnects.start()
    return disconnects
  }

  async shutdown() {
    this.#stopping = true
    this.#disconnects?.stop()
    clearInterval(this.#sweeper)
    await this.#sweeping
    await this.#drain()
    await this.#media?.close()
  }

  /**
   * Runs once, while the SIP stack is still up (its provider shuts down after this one): running
   * calls need it for their BYEs. Afterwards the web phones' WebSockets are closed, so their
   * browsers reconnect to another node and the HTTP server can close.
   */
  #drain() {
    if (!this.#b2bua) return Promise.resolve()
    this.#drained ??= (async () => {
      readiness.draining('calls')
      // The stop line counts the calls running at the signal: they end now, by themselves or at the deadline.
      lifecycle.callsEnded = this.#b2bua!.calls.length
      lifecycle.callsEndedAtDeadline = await this.#b2bua!.drain()
      // CDR ends kept while the database was out of reach: one last try before it closes
      await this.#b2bua!.writeUnwrittenEnds()
      const stack = await this.app.container.make('sip.stack')
      await stack.closeWebSockets()
    })()
    return this.#drained
  }
}

declare module '@adonisjs/core/types' {
  export interface ContainerBindings {
    'calls.gates': CallGateRegistry
    'media.engine': MediaEngine
    'calls.b2bua': B2bua
  }
}
