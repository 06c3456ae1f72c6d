/*
 * SIP parse throughput: our bounded parser against sip.js's parser (the browser library, run in
 * Node) on the same INVITE with SDP, in the same process. Prints the median of 5 runs of each and
 * the ratio; machines here are shared, so the ratio is the figure to compare over time.
 *
 *   node --import @poppinss/ts-exec bench/sip_parse.ts
 */
import { Core } from 'sip.js'
import { SipMessageParser } from '#sip'

const SDP = [
  'v=0',
  'o=- 4858 1 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 40000 RTP/AVP 8 0 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=sendrecv',
  '',
].join('\r\n')

const INVITE = [
  'INVITE sip:+4930123456789@carrier.example.net SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: <sip:+4930123456789@carrier.example.net>',
  'From: "Olga Owner" <sip:+4930987654321@fluffycall.example>;tag=1928301774',
  'Call-ID: a84b4c76e66710@192.0.2.10',
  'CSeq: 314159 INVITE',
  'Contact: <sip:b2bua@192.0.2.10:5060;transport=udp>',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE',
  'Supported: timer, replaces',
  'Session-Expires: 1800;refresher=uac',
  'P-Asserted-Identity: <sip:+4930987654321@fluffycall.example>',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '',
  SDP,
].join('\r\n')

const bytes = Buffer.from(INVITE)
const text = INVITE
/** Messages per run: sip.js parses about 345 a second here, so it gets a tenth of ours (was 5 min). */
const ITERATIONS = { ours: 20_000, sipjs: 2_000 }
const RUNS = 5

const silentLogger = { error() {}, warn() {}, log() {}, debug() {} } as unknown as Parameters<
  typeof Core.Parser.parseMessage
>[1]

function messagesPerSecond(parseOnce: () => unknown, iterations: number) {
  for (let i = 0; i < iterations / 10; i++) parseOnce()
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) parseOnce()
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return iterations / seconds
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

const parser = new SipMessageParser()
const ours: number[] = []
const sipjs: number[] = []
for (let run = 0; run < RUNS; run++) {
  ours.push(messagesPerSecond(() => parser.parse(bytes), ITERATIONS.ours))
  sipjs.push(
    messagesPerSecond(() => Core.Parser.parseMessage(text, silentLogger), ITERATIONS.sipjs)
  )
}

const result = {
  message: 'INVITE with SDP',
  bytes: bytes.length,
  runs: RUNS,
  iterationsPerRun: ITERATIONS,
  oursMedianPerSecond: Math.round(median(ours)),
  sipJsMedianPerSecond: Math.round(median(sipjs)),
  ratio: Number((median(ours) / median(sipjs)).toFixed(2)),
}
console.log(JSON.stringify(result, null, 2))
