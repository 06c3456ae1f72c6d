import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { DateTime } from 'luxon'
import type Company from '#accounts/models/company'
import SepaDebit from '#billing/payments/models/sepa_debit'
import { parseReturnFile } from '#billing/payments/bank_return_file'
import { makeCompany, makeUser } from '#tests/support/accounts'
import { auditMark, auditSince } from '#tests/support/audit'
import { giveMandate, makePayable } from '#tests/support/payments'
import { enableTwoFactor } from '#tests/support/two_factor'

/** Returned debits read from the bank's pain.002 status report or camt.054 notification. */

async function debitOf(company: Company, cents: number) {
  const mandate = await giveMandate(company, 'DE89370400440532013000')
  const payable = await makePayable(company, cents, '2026-10-31', '2026-11-14')
  const debit = await SepaDebit.create({
    payableId: payable.id,
    messageId: 'FC-DD-202610-1',
    mandateReference: mandate.mandateReference!,
    scheme: 'CORE',
    sequenceType: 'FRST',
    amountCents: cents,
    collectionOn: DateTime.fromISO('2026-11-16'),
    endToEndId: `${payable.invoiceNumber}-1`,
    status: 'submitted',
  })
  return { payable, debit }
}

/** A pain.002.001.10 as a bank sends it: one status per transaction. */
function pain002(
  transactions: Array<{ e2e: string; status: string; reason?: string; amount: string }>
) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>BANK-STS-1</MsgId><CreDtTm>2026-11-18T08:00:00</CreDtTm></GrpHdr>
    <OrgnlGrpInfAndSts><OrgnlMsgId>FC-DD-202610-1</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.08</OrgnlMsgNmId><GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>FC-DD-202610-1-1</OrgnlPmtInfId>
      ${transactions
        .map(
          (tx) => `<TxInfAndSts>
        <OrgnlEndToEndId>${tx.e2e}</OrgnlEndToEndId>
        <TxSts>${tx.status}</TxSts>
        ${tx.reason ? `<StsRsnInf><Rsn><Cd>${tx.reason}</Cd></Rsn></StsRsnInf>` : ''}
        <OrgnlTxRef><Amt><InstdAmt Ccy="EUR">${tx.amount}</InstdAmt></Amt></OrgnlTxRef>
      </TxInfAndSts>`
        )
        .join('\n')}
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>`
}

/** A camt.054.001.08 debit notification of R-transactions on the creditor account. */
function camt054(returns: Array<{ e2e: string; reason: string; amount: string }>) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>BANK-NTF-1</MsgId><CreDtTm>2026-11-20T08:00:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>NTF-1</Id>
      <Acct><Id><IBAN>DE87123456781234567890</IBAN></Id></Acct>
      ${returns
        .map(
          (entry) => `<Ntry>
        <Amt Ccy="EUR">${entry.amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts><Cd>BOOK</Cd></Sts>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>${entry.e2e}</EndToEndId></Refs>
          <Amt Ccy="EUR">${entry.amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd>
          <RtrInf><Rsn><Cd>${entry.reason}</Cd></Rsn></RtrInf>
        </TxDtls></NtryDtls>
      </Ntry>`
        )
        .join('\n')}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>`
}

test.group('Payments: returned debits from a bank file', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the parser reads both formats exactly (amounts from the decimal string, unknown codes as MS03)', ({
    assert,
  }) => {
    assert.deepEqual(
      parseReturnFile(
        pain002([
          { e2e: 'RE-1-1', status: 'RJCT', reason: 'AC04', amount: '0.30' },
          { e2e: 'RE-2-1', status: 'ACCP', amount: '1.00' },
          { e2e: 'RE-3-1', status: 'RJCT', reason: 'FF01', amount: '12345.6' },
        ])
      ),
      {
        format: 'pain.002',
        returns: [
          { endToEndId: 'RE-1-1', reason: 'AC04', bankCode: 'AC04', amountCents: 30 },
          { endToEndId: 'RE-3-1', reason: 'MS03', bankCode: 'FF01', amountCents: 1_234_560 },
        ],
      }
    )
    assert.deepEqual(
      parseReturnFile(camt054([{ e2e: 'RE-4-1', reason: 'MD06', amount: '49.90' }])),
      {
        format: 'camt.054',
        returns: [{ endToEndId: 'RE-4-1', reason: 'MD06', bankCode: 'MD06', amountCents: 4_990 }],
      }
    )
    assert.throws(() => parseReturnFile('<Document><Other/></Document>'), /unknown_format/)
    assert.throws(() => parseReturnFile('not <xml'), /not_xml/)
  })

  test('staff upload a pain.002 and a camt.054: named debits are returned once, audited; unknown, repeated and differing ones are reported', async ({
    client,
    assert,
  }) => {
    const admin = await makeUser('superadmin')
    await enableTwoFactor(admin)
    const first = await debitOf(await makeCompany('active'), 4_990)
    const second = await debitOf(await makeCompany('active'), 11_900)
    const third = await debitOf(await makeCompany('active'), 2_000)
    const mark = await auditMark()

    const status = await client
      .post('/admin/billing/payments/overdue/return-file')
      .file(
        'file',
        Buffer.from(
          pain002([
            { e2e: first.debit.endToEndId, status: 'RJCT', reason: 'AM04', amount: '49.90' },
            { e2e: second.debit.endToEndId, status: 'ACCP', amount: '119.00' },
            { e2e: 'RE-2099-999999-1', status: 'RJCT', reason: 'AC01', amount: '1.00' },
          ])
        ),
        { filename: 'status.xml' }
      )
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    status.assertHeader('location', '/admin/billing/payments/overdue')
    assert.equal(
      status.flashMessage('notice'),
      `pain.002: 1 Rücklastschrift(en) erfasst (${first.payable.invoiceNumber}). Nicht erfasst: RE-2099-999999-1: keine Lastschrift mit dieser Referenz.`
    )
    await first.payable.refresh()
    await second.payable.refresh()
    assert.equal(first.payable.status, 'returned')
    assert.equal(second.payable.status, 'open')
    assert.deepInclude((await SepaDebit.findOrFail(first.debit.id)).serialize(), {
      status: 'returned',
      returnReason: 'AM04',
    })

    const notification = camt054([
      { e2e: second.debit.endToEndId, reason: 'MD06', amount: '119.00' },
      { e2e: first.debit.endToEndId, reason: 'AM04', amount: '49.90' },
      { e2e: third.debit.endToEndId, reason: 'AC04', amount: '20.01' },
    ])
    const notified = await client
      .post('/admin/billing/payments/overdue/return-file')
      .file('file', Buffer.from(notification), { filename: 'camt054.xml' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(
      notified.flashMessage('notice'),
      `camt.054: 1 Rücklastschrift(en) erfasst (${second.payable.invoiceNumber}). Nicht erfasst: ${first.debit.endToEndId}: schon als zurückgegeben erfasst; ${third.debit.endToEndId}: Betrag weicht von der Lastschrift ab.`
    )
    await second.payable.refresh()
    await third.payable.refresh()
    assert.equal(second.payable.status, 'returned')
    assert.equal(third.payable.status, 'open')
    const audited = await auditSince(mark).where('action', 'billing.payment.debit_returned')
    assert.sameMembers(
      audited.map((entry) => (entry.details as { invoice: string }).invoice),
      [first.payable.invoiceNumber, second.payable.invoiceNumber]
    )

    const wrong = await client
      .post('/admin/billing/payments/overdue/return-file')
      .file('file', Buffer.from('<Document><Other/></Document>'), { filename: 'other.xml' })
      .withCsrfToken()
      .loginAs(admin)
      .redirects(0)
    assert.equal(wrong.flashMessage('errorsBag.file'), 'Weder pain.002 noch camt.054.')
    const page = await client
      .get('/admin/billing/payments/overdue')
      .withFlashMessages(wrong.flashMessages())
      .loginAs(admin)
    assert.include(page.text(), 'id="return-file-form"')
    assert.match(page.text(), /data-error-for="file"><span>Weder pain\.002 noch camt\.054\./)
  })
})
