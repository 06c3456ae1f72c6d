/**
 * Panels other modules put on the admin dashboard (accounts renders the page and imports none of
 * them): each names an Edge component and the figures it shows. Registered at boot, like the
 * sub-processor sources; the data is computed only when the page is rendered.
 */
export interface DashboardPanel {
  key: string
  /** An Edge component, rendered with `data` as its props. */
  component: string
  data(): Promise<Record<string, unknown>>
}

export default class DashboardPanels {
  #panels: DashboardPanel[] = []

  register(panel: DashboardPanel) {
    this.#panels = [...this.#panels.filter((known) => known.key !== panel.key), panel]
  }

  async render(): Promise<
    Array<{ key: string; component: string; data: Record<string, unknown> }>
  > {
    return Promise.all(
      this.#panels.map(async (panel) => ({
        key: panel.key,
        component: panel.component,
        data: await panel.data(),
      }))
    )
  }
}
