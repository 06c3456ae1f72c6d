/**
 * Why a SIP message could not be parsed. The values are stable strings so they can go into
 * structured logs and metrics as they are.
 */
export enum ParseFailure {
  Empty = 'empty',
  MessageTooLarge = 'message-too-large',
  TooManyHeaders = 'too-many-headers',
  LineTooLong = 'line-too-long',
  IncompleteHeaders = 'incomplete-headers',
  BadEncoding = 'bad-encoding',
  BadStartLine = 'bad-start-line',
  UnsupportedVersion = 'unsupported-version',
  BadHeaderLine = 'bad-header-line',
  MissingHeader = 'missing-header',
  DuplicateHeader = 'duplicate-header',
  BadUri = 'bad-uri',
  UnsupportedUriScheme = 'unsupported-uri-scheme',
  BadNameAddress = 'bad-name-address',
  BadVia = 'bad-via',
  BadCSeq = 'bad-cseq',
  CSeqMethodMismatch = 'cseq-method-mismatch',
  BadCallId = 'bad-call-id',
  BadNumber = 'bad-number',
  BadContentLength = 'bad-content-length',
  TruncatedBody = 'truncated-body',
  BadAuthHeader = 'bad-auth-header',
  /** A bug in the parser itself; the fuzz tests assert it never happens. */
  Internal = 'internal',
}

/** The response status a UAS should answer a request failing for this reason with (RFC 3261 21). */
export function statusForFailure(reason: ParseFailure): number {
  switch (reason) {
    case ParseFailure.MessageTooLarge:
      return 513
    case ParseFailure.UnsupportedVersion:
      return 505
    case ParseFailure.UnsupportedUriScheme:
      return 416
    default:
      return 400
  }
}
