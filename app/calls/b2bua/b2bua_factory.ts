import type { ContainerBindings } from '@adonisjs/core/types'
import B2bua from '#calls/b2bua/b2bua'
import CdrService from '#calls/b2bua/cdr_service'
import RoutingService from '#calls/services/routing_service'
import CarrierManager from '#calls/carriers/carrier_manager'
import NumberService from '#calls/services/number_service'
import CarrierHealthService from '#calls/services/carrier_health_service'
import SipDeviceService from '#calls/services/sip_device_service'
import { CallGateRegistry } from '#calls/gates/call_gate'
import type { MediaEngine } from '#media'
import type { CallsConfig } from '#config/calls'
import callsConfig from '#config/calls'
import mediaConfig from '#config/media'

/**
 * Assembles the B2BUA from the container: the provider's singleton, and tests that need one with
 * another media engine (a tiny port range) or other limits.
 */
export async function buildB2bua(
  resolver: {
    make<K extends keyof ContainerBindings>(binding: K): Promise<ContainerBindings[K]>
    make<T>(binding: abstract new (...args: any[]) => T): Promise<T>
  },
  overrides: { media?: MediaEngine; config?: Partial<CallsConfig> } = {}
) {
  const health = await resolver.make(CarrierHealthService)
  const b2bua = new B2bua({
    stack: await resolver.make('sip.stack'),
    media: overrides.media ?? (await resolver.make('media.engine')),
    carriers: await resolver.make(CarrierManager),
    routing: await resolver.make(RoutingService),
    gates: await resolver.make(CallGateRegistry),
    numbers: await resolver.make(NumberService),
    cdr: new CdrService(),
    config: { ...callsConfig, ...overrides.config },
    logger: await resolver.make('logger'),
    isCarrierDown: (name) => health.isDown(name),
    devices: await resolver.make(SipDeviceService),
  })
  b2bua.setMediaTimeout(mediaConfig.mediaTimeoutSeconds)
  return b2bua
}
