import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Signed webhooks, the scheme receivers know from payment providers: the body is signed with
 * HMAC-SHA256 over `<timestamp>.<body>` under a shared secret, so a receiver can check who sent it
 * and refuse replays older than a few minutes.
 *
 *   X-FluffyCall-Timestamp: 1764583200
 *   X-FluffyCall-Signature: v1=<hex>
 */
export function signWebhook(secret: string, timestamp: number, body: string) {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

/** What a receiver does; used by our tests and documented for customers' integrations. */
export function verifyWebhook(secret: string, timestamp: number, body: string, signature: string) {
  const expected = Buffer.from(signWebhook(secret, timestamp, body))
  const given = Buffer.from(signature)
  return expected.length === given.length && timingSafeEqual(expected, given)
}

export interface WebhookResult {
  ok: boolean
  /** Why it failed, short, for the admin page (never the response body: it is the receiver's). */
  error?: string
}

/** POSTs one signed JSON body. A 2xx answer within the timeout counts as delivered. */
export async function postWebhook(
  url: string,
  secret: string,
  payload: unknown,
  options: { timeoutMs?: number; now?: () => number } = {}
): Promise<WebhookResult> {
  const body = JSON.stringify(payload)
  const timestamp = Math.floor((options.now ?? Date.now)() / 1000)
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'FluffyCall-Alerts/1',
        'x-fluffycall-timestamp': String(timestamp),
        'x-fluffycall-signature': signWebhook(secret, timestamp, body),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    })
    await response.body?.cancel()
    if (response.status >= 200 && response.status < 300) return { ok: true }
    return { ok: false, error: `HTTP ${response.status}` }
  } catch (error) {
    const cause = (error as any)?.cause?.code ?? (error as Error).name ?? 'error'
    return { ok: false, error: String(cause).slice(0, 200) }
  }
}
