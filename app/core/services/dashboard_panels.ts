/**
 * Panels other modules put on the dashboards (accounts renders the pages and imports none of
 * them): each names an Edge component and the figures it shows. Registered at boot, like the
 * sub-processor sources; the data is computed only when the page is rendered. An admin panel
 * shows the whole service; a customer panel shows what the signed-in person may see, and returns
 * null to stay off the page (no permission, nothing to show).
 */
export interface DashboardPanel {
  key: string
  /** An Edge component, rendered with `data` as its props. */
  component: string
  data(): Promise<Record<string, unknown>>
}

/** Who looks at the customer dashboard: the user and what their role allows. */
export interface DashboardViewer {
  userId: number
  companyId: number
  can(permission: string): Promise<boolean>
}

export interface CustomerDashboardPanel {
  key: string
  component: string
  data(viewer: DashboardViewer): Promise<Record<string, unknown> | null>
}

export interface RenderedPanel {
  key: string
  component: string
  data: Record<string, unknown>
}

export default class DashboardPanels {
  #panels: DashboardPanel[] = []
  #customerPanels: CustomerDashboardPanel[] = []

  register(panel: DashboardPanel) {
    this.#panels = [...this.#panels.filter((known) => known.key !== panel.key), panel]
  }

  registerForCustomers(panel: CustomerDashboardPanel) {
    this.#customerPanels = [
      ...this.#customerPanels.filter((known) => known.key !== panel.key),
      panel,
    ]
  }

  async render(): Promise<RenderedPanel[]> {
    return Promise.all(
      this.#panels.map(async (panel) => ({
        key: panel.key,
        component: panel.component,
        data: await panel.data(),
      }))
    )
  }

  /** The customer panels in the order they were registered, those with nothing to show left out. */
  async renderForCustomer(viewer: DashboardViewer): Promise<RenderedPanel[]> {
    const rendered = await Promise.all(
      this.#customerPanels.map(async (panel) => {
        const data = await panel.data(viewer)
        return data === null ? null : { key: panel.key, component: panel.component, data }
      })
    )
    return rendered.filter((panel): panel is RenderedPanel => panel !== null)
  }
}
