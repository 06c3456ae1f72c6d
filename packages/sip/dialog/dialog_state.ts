/** RFC 3261 12: a dialog is created early (by a 1xx) or confirmed (by a 2xx) and ends terminated. */
export enum DialogState {
  Early = 'early',
  Confirmed = 'confirmed',
  Terminated = 'terminated',
}

/** Which side of the dialog-creating INVITE we were. */
export enum DialogRole {
  Uac = 'uac',
  Uas = 'uas',
}

/** Why a dialog ended, for the B2BUA's call records. */
export enum DialogEndReason {
  ByeSent = 'bye-sent',
  ByeReceived = 'bye-received',
  /** Our 2xx was never acknowledged (RFC 3261 13.3.1.4). */
  AckTimeout = 'ack-timeout',
  /** RFC 4028: no refresh arrived in time, or ours failed. */
  SessionExpired = 'session-expired',
  /** A request in the dialog got 408 or 481 (RFC 3261 12.2.1.2). */
  PeerGone = 'peer-gone',
  /** An early dialog whose INVITE got a final response on another dialog or a failure. */
  NotConfirmed = 'not-confirmed',
  /** Ended locally without signalling (shutdown). */
  Local = 'local',
}
