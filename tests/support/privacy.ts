import { DateTime } from 'luxon'
import app from '@adonisjs/core/services/app'
import type Company from '#accounts/models/company'
import DpaAcceptance from '#privacy/models/dpa_acceptance'
import DpaService from '#privacy/dpa/dpa_service'

/** The sealed snapshot per DPA version, built once per test process (the factory needs many). */
const snapshots = new Map<string, Promise<{ json: string; sha256: string }>>()

/**
 * Test factories: the company's current DPA accepted, as an owner would (the acceptance itself is
 * tested through HTTP in tests/functional/privacy/dpa.spec.ts).
 */
export async function acceptCurrentDpa(company: Company, at: DateTime = DateTime.utc()) {
  const service = await app.container.make(DpaService)
  const version = service.versions.current(at)
  let sealed = snapshots.get(version.version)
  if (!sealed) {
    sealed = service.sealedSnapshot(version, 'de')
    snapshots.set(version.version, sealed)
  }
  const { json, sha256 } = await sealed
  return DpaAcceptance.create({
    companyId: company.id,
    version: version.version,
    locale: 'de',
    acceptedByUserId: null,
    acceptedByName: 'Test factory',
    acceptedByEmail: 'factory@example.test',
    ip: null,
    acceptedAt: at,
    snapshot: json,
    snapshotHash: sha256,
  })
}
