import type SipRequest from '#sip/message/sip_request'
import SessionExpiresHeader, { Refresher, hasOptionTag } from '#sip/dialog/session_expires_header'
import type { SessionTimerConfig } from '#sip/dialog/session_timer_config'

/** True when the request asks for an interval below our Min-SE: it gets 422 (RFC 4028 8.1). */
export function sessionIntervalTooSmall(request: SipRequest, config: SessionTimerConfig): boolean {
  const asked = SessionExpiresHeader.from(request)
  return config.enabled && asked !== undefined && asked.seconds < config.minSE
}

/**
 * The Session-Expires of our 2xx to an INVITE or UPDATE (RFC 4028 9): the peer's interval and
 * refresher choice when it made one; when it named no refresher we let it refresh if it supports
 * timers, else we do; when it asked for nothing we still run our own interval and refresh it.
 */
export function answerSessionExpires(
  request: SipRequest,
  config: SessionTimerConfig
): SessionExpiresHeader | undefined {
  if (!config.enabled) {
    return undefined
  }
  const asked = SessionExpiresHeader.from(request)
  if (!asked) {
    return new SessionExpiresHeader(config.sessionExpires, Refresher.Uas)
  }
  const refresher =
    asked.refresher ?? (hasOptionTag(request, 'timer') ? Refresher.Uac : Refresher.Uas)
  return new SessionExpiresHeader(asked.seconds, refresher)
}
