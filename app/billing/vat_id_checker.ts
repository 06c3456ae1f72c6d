import { isValidVatId, normalizeVatId } from '#accounts/vat_id'

/**
 * Whether a VAT ID is valid for reverse charge. In production this asks the EU's VIES service or
 * the BZSt (qualified confirmation, § 18e UStG); neither is reachable from here, so the app binds
 * an implementation behind this interface and tests use the fake.
 */
export interface VatIdCheck {
  valid: boolean
  /** Who answered: vies, bzst, staff_approval, fake */
  source: string
}

export interface VatIdChecker {
  check(vatId: string, country: string): Promise<VatIdCheck>
}

/**
 * The default until a VIES/BZSt client is configured: the format must match the member state and
 * staff must have approved the company (they check the number at approval, see app/accounts).
 */
export class ApprovedFormatVatIdChecker implements VatIdChecker {
  constructor(private approved: (vatId: string) => boolean) {}

  async check(vatId: string, country: string): Promise<VatIdCheck> {
    return {
      valid: isValidVatId(vatId, country) && this.approved(normalizeVatId(vatId)),
      source: 'staff_approval',
    }
  }
}

/** For tests: answers from a fixed set of valid numbers. */
export class FakeVatIdChecker implements VatIdChecker {
  readonly asked: string[] = []
  constructor(private validIds: Iterable<string>) {}

  async check(vatId: string): Promise<VatIdCheck> {
    const normalized = normalizeVatId(vatId)
    this.asked.push(normalized)
    return {
      valid: new Set([...this.validIds].map(normalizeVatId)).has(normalized),
      source: 'fake',
    }
  }
}
