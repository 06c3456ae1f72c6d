/**
 * A media worker process (forked by WorkerMediaEngine): runs one WeriftMediaEngine on its own
 * slice of the port ranges and answers the main process's requests (worker/protocol.ts). The
 * packets never leave this process; the main process only signals. When the main process goes
 * away (IPC channel closed) the worker ends itself: its legs are of no use to anyone.
 */
import WeriftMediaEngine from '#media/werift_media_engine'
import { asRelayLeg } from '#media/relay_leg'
import {
  MediaCapacityError,
  MediaFeatureUnavailableError,
  type MediaBridge,
  type MediaLeg,
} from '#media/types'
import {
  STATS_INTERVAL_MS,
  type EventMessage,
  type InitMessage,
  type RequestMessage,
  type ResponseMessage,
  type WorkerError,
  type WorkerRequest,
} from '#media/worker/protocol'

let engine: WeriftMediaEngine | null = null
const legs = new Map<number, MediaLeg>()
const legIds = new Map<MediaLeg, number>()
const bridges = new Map<number, MediaBridge>()
const echoes = new Map<number, { close(): void }>()
let untap: (() => void) | null = null

function send(message: EventMessage | ResponseMessage) {
  if (process.connected) process.send!(message)
}

function legOf(id: number): MediaLeg {
  const leg = legs.get(id)
  if (!leg) throw new Error(`media worker: no leg ${id}`)
  return leg
}

function bridgeOf(id: number): MediaBridge | undefined {
  return bridges.get(id)
}

function errorOf(error: unknown): WorkerError {
  const err = error instanceof Error ? error : new Error(String(error))
  return {
    name: err.constructor.name,
    message: err.message,
    resource: err instanceof MediaCapacityError ? err.resource : undefined,
    feature: err instanceof MediaFeatureUnavailableError ? err.feature : undefined,
  }
}

async function handle(request: WorkerRequest): Promise<unknown> {
  const media = engine!
  switch (request.op) {
    case 'createLeg': {
      const leg =
        request.kind === 'webrtc'
          ? await media.createWebRtcLeg()
          : await media.createRtpLeg({ latching: request.latching, srtp: request.srtp })
      legs.set(request.leg, leg)
      legIds.set(leg, request.leg)
      asRelayLeg(leg).onClose(() => {
        if (!legs.delete(request.leg)) return
        legIds.delete(leg)
        send({ type: 'legClosed', leg: request.leg })
      })
      return { localPort: leg.kind === 'rtp' ? (leg as { localPort: number }).localPort : 0 }
    }
    case 'answer':
      return legOf(request.leg).answer(request.sdp, request.options)
    case 'createOffer':
      return legOf(request.leg).createOffer(request.options)
    case 'applyAnswer':
      return legOf(request.leg).applyAnswer(request.sdp)
    case 'ready':
      return legOf(request.leg).ready()
    case 'closeLeg': {
      const leg = legs.get(request.leg)
      if (!leg) return
      legs.delete(request.leg)
      legIds.delete(leg)
      await leg.close()
      // The B2BUA closes a call's legs before its CDR: the leg's jitter is counted by then
      return { closedJitter: media.counters.takeClosedJitter() }
    }
    case 'bridge': {
      const bridge = media.bridge(legOf(request.a), legOf(request.b), {
        mediaTimeoutSeconds: request.mediaTimeoutSeconds,
      })
      bridges.set(request.bridge, bridge)
      bridge.onEnded((reason) => {
        bridges.delete(request.bridge)
        send({ type: 'bridgeEnded', bridge: request.bridge, reason })
      })
      return
    }
    case 'refresh':
      return bridgeOf(request.bridge)?.refresh()
    case 'setHeld':
      return bridgeOf(request.bridge)?.setHeld(request.held)
    case 'replace':
      return bridgeOf(request.bridge)?.replace(legOf(request.old), legOf(request.next))
    case 'playAnnouncement': {
      const bridge = bridgeOf(request.bridge)
      if (!bridge) return 0
      return bridge.playAnnouncement(legOf(request.toward), request.announcement)
    }
    case 'playTone': {
      const bridge = bridgeOf(request.bridge)
      if (!bridge) return 0
      return bridge.playTone(legOf(request.toward), request.pattern)
    }
    case 'closeBridge': {
      const bridge = bridges.get(request.bridge)
      bridges.delete(request.bridge)
      return bridge?.close()
    }
    case 'echo':
      echoes.set(request.echo, media.echo(legOf(request.leg)))
      return
    case 'closeEcho': {
      echoes.get(request.echo)?.close()
      echoes.delete(request.echo)
      return
    }
    case 'tap': {
      untap?.()
      untap = null
      if (request.on) {
        untap = media.tapRelays((packet) => {
          const bridge = [...bridges].find(
            ([, open]) =>
              (open.a === packet.from && open.b === packet.to) ||
              (open.b === packet.from && open.a === packet.to)
          )
          send({
            type: 'tapped',
            bridge: bridge?.[0] ?? -1,
            direction: packet.direction,
            from: legIds.get(packet.from) ?? -1,
            to: legIds.get(packet.to) ?? -1,
            payloadType: packet.payloadType,
            dtmf: packet.dtmf,
            payload: packet.payload,
          })
        })
      }
      return
    }
    case 'exhaustMemory': {
      if (!testHooks) throw new Error('exhaustMemory is a test hook')
      const kept: number[][] = []
      // Never answers: V8 aborts the process at its heap limit
      for (;;) kept.push(Array.from({ length: 100_000 }, (_, index) => index))
    }
    case 'ping':
      // The figures go out before the answer: who awaited a ping reads fresh counters
      snapshot()
      return
    case 'close':
      clearInterval(statsTimer)
      await media.close()
      return
  }
}

function snapshot() {
  if (!engine) return
  send({
    type: 'stats',
    legs: [...legs].map(([leg, open]) => ({
      leg,
      // Copied by name: a C++ leg's stats are getters on a prototype, which a spread would miss
      stats: {
        packetsReceived: open.stats.packetsReceived,
        packetsSent: open.stats.packetsSent,
        packetsRejected: open.stats.packetsRejected,
        sendFailures: open.stats.sendFailures,
      },
      quality: open.quality,
    })),
    bridges: [...bridges].map(([bridge, open]) => ({ bridge, ...open.relayed })),
    counters: engine.counters.figures(),
    closedJitter: engine.counters.takeClosedJitter(),
  })
}

const statsTimer = setInterval(snapshot, STATS_INTERVAL_MS)
/** Set by the engine that forked this worker (a test's, never the product's). */
let testHooks = false

process.on('message', (message: InitMessage | RequestMessage) => {
  if ('type' in message && message.type === 'init') {
    engine = new WeriftMediaEngine(message.config)
    engine.onLegLost((leg) => {
      const id = legIds.get(leg)
      if (id !== undefined) send({ type: 'legFailed', leg: id })
    })
    testHooks = message.testHooks === true
    send({ type: 'ready', pid: process.pid })
    return
  }
  const request = message as RequestMessage
  Promise.resolve()
    .then(() => handle(request))
    .then(
      (result) => {
        // A leg's stats go with every answer, so the main process sees them before the next tick
        send({ type: 'response', id: request.id, ok: true, result: result ?? null })
      },
      (error) => send({ type: 'response', id: request.id, ok: false, error: errorOf(error) })
    )
})

process.on('disconnect', () => {
  clearInterval(statsTimer)
  void Promise.resolve(engine?.close()).finally(() => process.exit(0))
})
