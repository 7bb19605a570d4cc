// The Benchmarks view: one card per suite ("Sandbox suite", "Provisioning suite") with an "Iterations" input, a
// "Run" button and a progress bar; the selected run's details (charts, tables) below.

import { expect, Locator, Page } from '@playwright/test';
import { PanelPage } from './panel';

export type Suite = 'sandbox' | 'provisioning';

const TITLE: Record<Suite, string> = { sandbox: 'Sandbox', provisioning: 'Provisioning' };

export class BenchmarksPage extends PanelPage {
  constructor(page: Page) {
    super(page);
  }

  suite(suite: Suite): Locator {
    return this.page.getByRole('region', { name: `${TITLE[suite]} suite`, exact: true });
  }

  runButton(suite: Suite): Locator {
    return this.suite(suite).getByRole('button', { name: 'Run', exact: true });
  }

  iterations(suite: Suite): Locator {
    return this.suite(suite).getByLabel('Iterations');
  }

  progress(suite: Suite): Locator {
    return this.suite(suite).getByRole('progressbar');
  }

  /** The details of the selected run of a suite ("sandbox run <date>"). */
  details(suite: Suite): Locator {
    return this.page.getByRole('region', { name: new RegExp(`^${suite} run`) });
  }

  charts(suite: Suite): Locator {
    return this.details(suite).locator('.recharts-wrapper');
  }

  async run(suite: Suite, iterations: number): Promise<void> {
    await this.show('Benchmarks');
    await this.iterations(suite).fill(String(iterations));
    await this.runButton(suite).click();
    await expect(this.progress(suite)).toBeVisible();
  }

  /** Waits until the suite's current run has finished (or failed: the test then says why). */
  async waitForEnd(suite: Suite, timeout: number): Promise<string> {
    await expect(this.progress(suite)).toHaveAttribute('aria-valuetext', /finished|failed/, { timeout });
    return (await this.progress(suite).getAttribute('aria-valuetext')) ?? '';
  }
}
