/**
 * Bounds on what the parser and the stream framer accept from the network, so that a peer cannot
 * make us buffer or scan without limit.
 */
export interface ParseLimits {
  /** Whole message, start line to the end of the body, in bytes. */
  maxMessageSize: number
  /** Header lines after unfolding (a comma-separated Via line counts once). */
  maxHeaderCount: number
  /** One physical line of the header section, in characters after UTF-8 decoding. */
  maxLineLength: number
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxMessageSize: 64 * 1024,
  maxHeaderCount: 100,
  maxLineLength: 8 * 1024,
})
