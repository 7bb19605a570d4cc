// The panel as a whole: its navigation between the four views and the connection banner.

import { expect, Locator, Page } from '@playwright/test';

export type ViewName = 'Functions' | 'Zygotes' | 'Timings' | 'Benchmarks';

export class PanelPage {
  constructor(readonly page: Page) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await expect(this.navButton('Functions')).toBeVisible();
  }

  /** The view's entry in the navigation ("Views"): a link (a button would do as well). */
  navButton(view: ViewName): Locator {
    const nav = this.page.getByRole('navigation');
    return nav.getByRole('link', { name: view, exact: true }).or(nav.getByRole('button', { name: view, exact: true }));
  }

  async show(view: ViewName): Promise<void> {
    await this.navButton(view).click();
  }

  /** The banner shown while sockpitd can't be reached. */
  get disconnectBanner(): Locator {
    // case-sensitive: a failed call's own error says "can't reach sockpitd" too, in the Functions view
    return this.page.getByRole('alert').filter({ hasText: /Can't reach sockpitd/ });
  }

  /** What the page shows instead of the views while this browser has not signed in with the panel's token. */
  get signedOutNotice(): Locator {
    return this.page.getByRole('alert').filter({ has: this.page.getByRole('heading', { name: 'Signed out of this panel' }) });
  }

  /** The status line shown while the panel reaches sockpitd. */
  get connectedBanner(): Locator {
    return this.page.getByRole('status').filter({ hasText: 'Connected to sockpitd' });
  }

  /** A full-page screenshot saved as the test's artifact (test-results/…/<name>.png) and, when given, also at `copyTo`. */
  async screenshot(outputPath: string, copyTo?: string): Promise<void> {
    await this.page.screenshot({ path: outputPath, fullPage: true, animations: 'disabled' });
    if (copyTo) await this.page.screenshot({ path: copyTo, fullPage: true, animations: 'disabled' });
  }
}
