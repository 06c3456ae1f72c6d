import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import CallFiguresService from '#calls/services/call_figures_service'

/** The dashboard's call figures as JSON, fetched by the page every 15 s (staff only, aggregates only). */
@inject()
export default class CallFiguresController {
  constructor(protected figures: CallFiguresService) {}

  async show({ response }: HttpContext) {
    response.header('Cache-Control', 'no-store')
    return response.json(await this.figures.figures())
  }
}
