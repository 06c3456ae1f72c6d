import { test } from '@japa/runner'
import QRCode from 'qrcode'
import jsQRModule from 'jsqr'
import { giroCodePayload, giroCodeSvg, parseGiroCode } from '#billing/payments/girocode'

/** jsqr is CommonJS whose module object is the decoder function; its types describe an ES default export. */
const jsQR = jsQRModule as unknown as (
  data: Uint8ClampedArray,
  width: number,
  height: number
) => { data: string } | null

const creditor = { name: 'FluffyCall GmbH', iban: 'DE87 1234 5678 1234 5678 90', bic: null }
const payable = { invoiceNumber: 'RE-2026-000042', grossCents: 11_900, currency: 'EUR' as const }

/** Reads a payload back from the QR code's modules as a scanner would (jsQR on rendered pixels). */
function scan(payload: string) {
  const modules = QRCode.create(payload, { errorCorrectionLevel: 'M' }).modules
  const scale = 4
  const quiet = 4
  const size = (modules.size + 2 * quiet) * scale
  const pixels = new Uint8ClampedArray(size * size * 4).fill(255)
  for (let row = 0; row < modules.size; row++) {
    for (let col = 0; col < modules.size; col++) {
      if (!modules.get(row, col)) continue
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const offset = (((row + quiet) * scale + dy) * size + (col + quiet) * scale + dx) * 4
          pixels[offset] = pixels[offset + 1] = pixels[offset + 2] = 0
        }
      }
    }
  }
  return jsQR(pixels, size, size)?.data ?? null
}

test.group('Payments: SEPA payment QR code (EPC069-12 GiroCode)', () => {
  test('the payload carries the EPC069-12 fields; a scanned code gives them back', async ({
    assert,
  }) => {
    const { payload, svg } = await giroCodeSvg(payable, creditor)
    assert.match(svg, /^<svg[\s\S]*<\/svg>\s*$/)
    const scanned = scan(payload)
    assert.equal(scanned, payload)
    assert.deepEqual(parseGiroCode(scanned!), {
      serviceTag: 'BCD',
      version: '002',
      characterSet: '1',
      identification: 'SCT',
      bic: '',
      name: 'FluffyCall GmbH',
      iban: 'DE87123456781234567890',
      amount: 'EUR119.00',
      purpose: '',
      reference: '',
      remittance: 'Rechnung RE-2026-000042',
      information: '',
    })
  })

  test('amounts from integer cents, the BIC when given, and the limits of the format', ({
    assert,
  }) => {
    assert.equal(
      parseGiroCode(giroCodePayload({ ...payable, grossCents: 435 }, creditor)).amount,
      'EUR4.35'
    )
    assert.equal(
      parseGiroCode(giroCodePayload({ ...payable, grossCents: 1 }, creditor)).amount,
      'EUR0.01'
    )
    assert.equal(
      parseGiroCode(giroCodePayload(payable, { ...creditor, bic: 'XMPLDEM0XXX' })).bic,
      'XMPLDEM0XXX'
    )
    assert.throws(() => giroCodePayload({ ...payable, grossCents: 0 }, creditor))
    assert.throws(() => giroCodePayload({ ...payable, grossCents: 100_000_000_000 }, creditor))
    // A line break in a name cannot shift the fields
    assert.equal(
      parseGiroCode(giroCodePayload(payable, { ...creditor, name: 'Fluffy\nCall' })).iban,
      'DE87123456781234567890'
    )
    assert.isAtMost(
      Buffer.byteLength(
        giroCodePayload(
          { ...payable, invoiceNumber: 'X'.repeat(200) },
          { ...creditor, name: 'Ä'.repeat(100) }
        )
      ),
      331
    )
  })
})
