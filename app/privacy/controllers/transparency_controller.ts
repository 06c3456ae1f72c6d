import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import { DateTime } from 'luxon'
import TransparencyService from '#privacy/services/transparency_service'
import { buildAtomFeed } from '#privacy/services/atom_feed'
import { buildSccAnnex } from '#privacy/services/scc_annex'
import app from '@adonisjs/core/services/app'
import { TOM_SECTIONS, tomItemKeys } from '#privacy/technical_measures'
import { tomResults } from '#core/monitoring/tom_results'
import { appUrl } from '#config/app'
import { operator, supervisoryAuthority } from '#config/privacy'

/** The public transparency pages (no login), generated from the running carrier configuration. */
@inject()
export default class TransparencyController {
  constructor(protected transparency: TransparencyService) {}

  async index({ view }: HttpContext) {
    return view.render('pages/public/transparency/index')
  }

  async privacy({ view }: HttpContext) {
    return view.render('pages/public/transparency/privacy', {
      authority: supervisoryAuthority,
      contact: operator.contact,
    })
  }

  async subProcessors({ view }: HttpContext) {
    return view.render('pages/public/transparency/sub_processors', {
      subProcessors: await this.transparency.subProcessors(),
    })
  }

  async toms({ view }: HttpContext) {
    const sections = TOM_SECTIONS.map((section) => ({
      key: section.key,
      items: tomItemKeys(section),
    }))
    const checks = await tomResults(await app.container.make('monitoring'))
    return view.render('pages/public/transparency/toms', { sections, checks })
  }

  /** The TOM checks' last results as JSON (the same as the page shows). */
  async tomsJson({ response }: HttpContext) {
    const checks = await tomResults(await app.container.make('monitoring'))
    return response.json({ generatedAt: DateTime.utc().toISO(), checks })
  }

  async transfers({ view }: HttpContext) {
    return view.render('pages/public/transparency/transfers', {
      transfers: await this.transparency.transfers(),
    })
  }

  async sccs({ view }: HttpContext) {
    return view.render('pages/public/transparency/sccs', {
      items: await this.transparency.sccCarriers(),
    })
  }

  async annex({ params, response, i18n }: HttpContext) {
    const item = await this.transparency.sccFor(params.key)
    if (!item) return response.notFound()
    const text = buildSccAnnex(
      item.entry,
      item.sccs,
      await this.transparency.subProcessors(),
      i18n,
      DateTime.utc().toISODate()!
    )
    response.header('content-type', 'text/plain; charset=utf-8')
    response.header(
      'content-disposition',
      `attachment; filename="scc-annexes-${item.entry.key}-${i18n.locale}.txt"`
    )
    return text
  }

  async history({ view }: HttpContext) {
    return view.render('pages/public/transparency/history', {
      entries: await this.transparency.history(),
    })
  }

  async feed({ response, i18n }: HttpContext) {
    const entries = await this.transparency.history()
    response.header('content-type', 'application/atom+xml; charset=utf-8')
    return buildAtomFeed(entries, {
      baseUrl: appUrl,
      title: `FluffyCall – ${i18n.t('transparency.history.title')}`,
      describe: (entry) =>
        i18n.t(`transparency.history.${entry.change}`, {
          name: entry.label,
          date: entry.effectiveDate,
        }),
    })
  }

  async json({ response }: HttpContext) {
    const list = await this.transparency.subProcessors()
    return response.json({
      generatedAt: DateTime.utc().toISO(),
      subProcessors: list.map((entry) => ({
        key: entry.key,
        kind: entry.kind,
        status: entry.status,
        effectiveDate: entry.effectiveDate,
        region: entry.region,
        name: entry.metadata.legalEntity.name,
        address: entry.metadata.legalEntity.address,
        entityCountry: entry.metadata.entityCountry,
        purpose: entry.metadata.purpose,
        dataCategories: entry.metadata.dataCategories,
        processing: entry.metadata.processing,
        transfers: entry.metadata.transfers,
        since: entry.metadata.since,
        dpaUrl: entry.metadata.dpaUrl,
        confirmed: entry.metadata.confirmed,
      })),
    })
  }
}
