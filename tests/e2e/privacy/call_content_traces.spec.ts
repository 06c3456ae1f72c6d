import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import CallRecord from '#calls/models/call_record'
import SipDeviceService from '#calls/services/sip_device_service'
import { TEST_LOG_FILE } from '#config/logger'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { loopbackCarriers, startB2bua } from '#tests/support/calls'
import { freePort, startSipp } from '#tests/support/sip_peers'
import { captureRtp } from '#tests/support/rtp_capture'
import { until } from '#tests/support/server_process'
import { expectExit, sippPhoneCall } from '#tests/e2e/calls/b2bua_races_peers'
import type B2bua from '#calls/b2bua/b2bua'

/**
 * "Call content is never recorded or stored": a call from a sipp phone over a sipp carrier, the
 * carrier speaking a recognisable byte pattern as its A-law audio, leaves no file outside the
 * database and the logs (the project's tmp/ and the temp dir, listed before and after), and no
 * log line holds that audio, raw, as hex or as base64. The pattern is also looked for at the
 * phone (tshark), so the test knows the audio did cross our media relay.
 */
const CANARY = Buffer.from('FLUFFYCALL-RTP-CANARY-4711!')

function canaryWav(seconds: number) {
  const data = Buffer.alloc(8000 * seconds)
  for (let index = 0; index < data.length; index++) data[index] = CANARY[index % CANARY.length]
  const header = Buffer.alloc(44)
  header.write('RIFF', 0)
  header.writeUInt32LE(36 + data.length, 4)
  header.write('WAVE', 8)
  header.write('fmt ', 12)
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(6, 20) // A-law
  header.writeUInt16LE(1, 22)
  header.writeUInt32LE(8000, 24)
  header.writeUInt32LE(8000, 28)
  header.writeUInt16LE(1, 32)
  header.writeUInt16LE(8, 34)
  header.write('data', 36)
  header.writeUInt32LE(data.length, 40)
  return Buffer.concat([header, data])
}

/**
 * How the audio could show in a log line: the pattern as text, as hex (either case), and as base64
 * of a run of it starting at any byte of the pattern (base64 depends on the alignment).
 */
function canaryForms() {
  const run = Buffer.concat([CANARY, CANARY, CANARY])
  const forms = [
    CANARY.toString('latin1'),
    CANARY.toString('hex'),
    CANARY.toString('hex').toUpperCase(),
  ]
  for (let start = 0; start < CANARY.length; start++) {
    forms.push(run.subarray(start, start + 24).toString('base64'))
    forms.push(run.subarray(start, start + 24).toString('base64url'))
  }
  return forms
}

/** Every file under `root`, relative, with its size (directories recursed). */
function listing(root: string): Map<string, number> {
  const files = new Map<string, number>()
  const walk = (directory: string) => {
    let entries: string[]
    try {
      entries = readdirSync(directory)
    } catch {
      return
    }
    for (const name of entries) {
      const path = join(directory, name)
      let stat
      try {
        stat = statSync(path)
      } catch {
        continue
      }
      if (stat.isDirectory()) walk(path)
      else files.set(relative(root, path), stat.size)
    }
  }
  walk(root)
  return files
}

test.group('Call content leaves no trace outside the database and the logs', (group) => {
  const cleanups: Array<() => unknown> = []
  let b2bua: B2bua
  group.setup(async () => {
    b2bua = await startB2bua()
  })
  group.each.teardown(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('a call with audio writes no file and no log line with its RTP payload', async ({
    assert,
  }) => {
    assert.isString(TEST_LOG_FILE)
    const company = await makeCompany('active')
    const user = await makeUser('member', company)
    const { device, password } = await new SipDeviceService().create(user, 'Desk phone')
    const phone = { username: device.sipUsername, password }

    // The carrier speaks the pattern (rtp_stream of the WAV, looped) until our BYE
    const carrierMedia = await freePort('udp')
    const carrier = await startSipp({
      scenario: 'carrier_until_bye.xml',
      transport: 'u1',
      timeoutSeconds: 40,
      traceMessages: true,
      files: { 'tone.wav': canaryWav(2) },
      extraArgs: ['-mp', String(carrierMedia)],
    })
    cleanups.push(carrier.stop, await loopbackCarriers({ first: carrier.port }))
    const phoneMedia = await freePort('udp', '127.0.0.2')
    const heard = await captureRtp(phoneMedia)

    // Our process's temp dir is a fresh one for the call, so its listing is not disturbed by
    // other processes on the machine; the sipp peers' own directories land there too (excluded).
    const previousTmp = process.env.TMPDIR
    const privateTmp = mkdtempSync(join(tmpdir(), 'fluffycall-content-'))
    process.env.TMPDIR = privateTmp
    cleanups.push(() => {
      process.env.TMPDIR = previousTmp
      if (previousTmp === undefined) delete process.env.TMPDIR
      rmSync(privateTmp, { recursive: true, force: true })
    })
    assert.equal(tmpdir(), privateTmp)
    const projectTmp = app.tmpPath()
    const before = listing(projectTmp)
    const logOffset = statSync(TEST_LOG_FILE!).size
    // Everything our process logs during the call reaches the file, down to trace
    const previousLevel = logger.level
    logger.level = 'trace'
    cleanups.push(() => (logger.level = previousLevel))

    const call = await sippPhoneCall(phone, '+4930500300', 'phone_call_until_bye.xml', {
      timeoutSeconds: 40,
      mediaPort: phoneMedia,
    })
    cleanups.push(call.stop)
    const record = await until('the call answered', 15_000, async () =>
      CallRecord.query()
        .where('company_id', company.id)
        .whereNotNull('answered_at')
        .whereNull('ended_at')
        .first()
    )
    // Two seconds of talk: about 100 packets of the pattern through the relay
    await new Promise((resolve) => setTimeout(resolve, 2000))
    await b2bua.end(record.uuid)
    await expectExit(call, 0, assert)
    await expectExit(carrier, 0, assert)
    const packets = await heard.stop()
    logger.level = previousLevel

    // The audio did cross our relay: the phone heard the pattern
    const audio = packets
      .filter((packet) => packet.toPort === phoneMedia && packet.payloadType === 8)
      .map((packet) => packet.payload)
    assert.isAbove(audio.length, 20, 'the phone heard the carrier')
    assert.isTrue(
      audio.some((payload) => payload.includes(CANARY.subarray(0, 12))),
      'the carrier’s pattern reached the phone through the relay'
    )

    // No file outside the database and the logs
    const database = /^(db\.sqlite3|.*\.sqlite3)(-wal|-shm|-journal)?$/
    const newInProject = [...listing(projectTmp).keys()].filter(
      (path) => !before.has(path) && !database.test(path) && !path.startsWith('logs/')
    )
    assert.deepEqual(newInProject, [], 'no new file in tmp/')
    const newInTemp = [...listing(privateTmp).keys()].filter(
      (path) => !/^fluffycall-(sipp|rtp|stunnel)-[^/]+\//.test(path)
    )
    assert.deepEqual(newInTemp, [], 'no new file in the temp dir')

    // No log line with the payload
    const log = readFileSync(TEST_LOG_FILE!).subarray(logOffset).toString('latin1')
    assert.isAbove(log.length, 0, 'the call was logged')
    for (const form of canaryForms()) assert.notInclude(log, form)
  }).timeout(60_000)
})
