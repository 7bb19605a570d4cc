// The Timings view: a scatter chart of invocation latencies (recharts), one point per call, coloured by tier.

import { Locator, Page } from '@playwright/test';
import { PanelPage } from './panel';

export class TimingsPage extends PanelPage {
  constructor(page: Page) {
    super(page);
  }

  get view(): Locator {
    return this.page.getByRole('region', { name: 'Timings', exact: true });
  }

  get chart(): Locator {
    return this.view.locator('.recharts-wrapper').first();
  }

  /** The plotted points (recharts' scatter symbols). */
  get points(): Locator {
    return this.view.locator('.recharts-scatter-symbol');
  }
}
