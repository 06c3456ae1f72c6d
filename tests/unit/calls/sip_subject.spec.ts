import { test } from '@japa/runner'
import {
  legacySipSubject,
  sipSubject,
  sipSubjectParts,
  userSubject,
} from '#calls/signalling/sip_subject'
import { isUnder } from '#sip'

test.group('SIP subjects (the calls side of Binding.subject)', () => {
  test('a device, a web phone login and a user read back as written', ({ assert }) => {
    for (const parts of [
      { userId: 7, companyId: 3, deviceId: 12 },
      { userId: 7, companyId: 3, webPhoneCredentialId: 45 },
      { userId: 7, companyId: 3 },
    ]) {
      assert.deepEqual(sipSubjectParts(sipSubject(parts)), parts)
    }
    assert.equal(
      sipSubject({ userId: 7, companyId: 3, deviceId: 12 }),
      'user:7/company:3/device:12'
    )
  })

  test("every subject of a user lies under userSubject, no other user's", ({ assert }) => {
    assert.isTrue(isUnder(sipSubject({ userId: 7, companyId: 3, deviceId: 12 }), userSubject(7)))
    assert.isTrue(
      isUnder(sipSubject({ userId: 7, companyId: 3, webPhoneCredentialId: 1 }), userSubject(7))
    )
    assert.isFalse(isUnder(sipSubject({ userId: 70, companyId: 3, deviceId: 12 }), userSubject(7)))
  })

  test('bindings of the first format map to the subject their credentials have now', ({
    assert,
  }) => {
    assert.equal(
      legacySipSubject({ userId: 7, companyId: 3, deviceId: 12 }),
      sipSubject({ userId: 7, companyId: 3, deviceId: 12 })
    )
    // A web phone binding of the first format named no login: it still rings its user.
    assert.equal(legacySipSubject({ userId: 7, companyId: 3 }), 'user:7/company:3')
  })

  test('anything else is no subject of ours', ({ assert }) => {
    for (const subject of [
      '',
      'user:7',
      'user:x/company:3',
      'user:7/company:3/device:',
      'user:7/company:3/pager:1',
      'party-1/phone-3',
    ]) {
      assert.isUndefined(sipSubjectParts(subject), subject)
    }
  })
})
