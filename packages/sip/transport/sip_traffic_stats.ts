import SipRequest from '#sip/message/sip_request'
import type SipResponse from '#sip/message/sip_response'
import type SipMessage from '#sip/message/sip_message'

/** Methods counted by name; anything else a peer sends is 'other' (a closed set for metrics). */
export const COUNTED_METHODS = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'REGISTER',
  'OPTIONS',
  'INFO',
  'UPDATE',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
  'MESSAGE',
] as const

/** CSeq's method: the word after the first run of white space. */
const CSEQ_METHOD = /^\S+\s+(\S+)/

export type CountedMethod = (typeof COUNTED_METHODS)[number] | 'other'
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | '6xx'
export type TrafficDirection = 'in' | 'out'

/**
 * Plain counters of the SIP traffic, for whoever assembles the stack to export (the app's
 * /metrics): messages in and out by method (requests) or method and status class (responses,
 * the method from CSeq: REGISTER 2xx out are accepted registrations), parse failures, messages
 * dropped by the rate limit and the sources that started flooding. No addresses, no URIs.
 */
export default class SipTrafficStats {
  /** `${direction} ${method}` → requests. */
  readonly requests = new Map<string, number>()
  /** `${direction} ${method} ${class}` → responses. */
  readonly responses = new Map<string, number>()
  /** Our answers to REGISTER by status (200 accepted, 401/407 challenged, others refused). */
  readonly registerAnswers = new Map<number, number>()
  parseFailures = 0
  rateLimitedMessages = 0
  /** A source that went over its rate limit (counted once per flood, not per message). */
  floodLimitedSources = 0

  count(message: SipMessage, direction: TrafficDirection): void {
    if (message instanceof SipRequest) {
      const key = keysOf(message.method)[direction]
      this.requests.set(key, (this.requests.get(key) ?? 0) + 1)
      return
    }
    const response = message as SipResponse
    const cseq = response.headers.get('cseq') ?? ''
    // The second word, as `trim().split(/\s+/)[1]` gave it, without the array of words
    const keys = keysOf(CSEQ_METHOD.exec(cseq.trim())?.[1] ?? '')
    const statusClass = Math.min(6, Math.max(1, Math.floor(response.status / 100)))
    const key =
      keys.responses[direction][statusClass - 1] ?? `${direction} ${keys.method} ${statusClass}xx`
    this.responses.set(key, (this.responses.get(key) ?? 0) + 1)
    if (direction === 'out' && keys.method === 'REGISTER')
      this.registerAnswers.set(
        response.status,
        (this.registerAnswers.get(response.status) ?? 0) + 1
      )
  }

  /** Every count as `{ direction, method, statusClass? , count }` rows. */
  rows(): Array<{
    direction: TrafficDirection
    method: CountedMethod
    statusClass: StatusClass | null
    count: number
  }> {
    const rows = []
    for (const [key, count] of this.requests) {
      const [direction, method] = key.split(' ') as [TrafficDirection, CountedMethod]
      rows.push({ direction, method, statusClass: null, count })
    }
    for (const [key, count] of this.responses) {
      const [direction, method, statusClass] = key.split(' ') as [
        TrafficDirection,
        CountedMethod,
        StatusClass,
      ]
      rows.push({ direction, method, statusClass, count })
    }
    return rows
  }
}

/** A counted method's keys, `${direction} ${method}` and `${direction} ${method} ${class}`. */
interface MethodKeys {
  method: CountedMethod
  in: string
  out: string
  responses: Record<TrafficDirection, readonly string[]>
}

function methodKeys(method: CountedMethod): MethodKeys {
  const classes = ['1xx', '2xx', '3xx', '4xx', '5xx', '6xx']
  return {
    method,
    in: `in ${method}`,
    out: `out ${method}`,
    responses: {
      in: classes.map((statusClass) => `in ${method} ${statusClass}`),
      out: classes.map((statusClass) => `out ${method} ${statusClass}`),
    },
  }
}

/** The keys made once per method: counting made two template strings per message. */
const COUNTED_KEYS = new Map<string, MethodKeys>(
  COUNTED_METHODS.map((method) => [method, methodKeys(method)])
)
const OTHER_KEYS = methodKeys('other')

function keysOf(method: string): MethodKeys {
  return COUNTED_KEYS.get(method) ?? OTHER_KEYS
}
