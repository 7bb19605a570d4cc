// The Functions view: deploy a folder under a name, pick a function, invoke it with a JSON event, read the result
// and the tier that served it.

import { expect, Locator, Page } from '@playwright/test';
import { TIER_HEADER, type Tier } from '../../api';
import { PanelPage } from './panel';

export type { Tier };

export class FunctionsPage extends PanelPage {
  constructor(page: Page) {
    super(page);
  }

  get folder(): Locator {
    return this.page.getByLabel('Folder', { exact: true });
  }

  get name(): Locator {
    return this.page.getByLabel('Name', { exact: true });
  }

  get deployButton(): Locator {
    return this.page.getByRole('button', { name: 'Deploy', exact: true });
  }

  get event(): Locator {
    return this.page.getByLabel('Event (JSON)', { exact: true });
  }

  get invokeButton(): Locator {
    return this.page.getByRole('button', { name: 'Invoke', exact: true });
  }

  get result(): Locator {
    return this.page.getByRole('region', { name: 'Result', exact: true });
  }

  /** The tier badge inside the result ("tier warm"...). */
  get tier(): Locator {
    return this.result.getByLabel(/^tier (warm|zygote|cold)$/);
  }

  /** The function's return value, as JSON text. */
  get returnValue(): Locator {
    return this.result.getByLabel('Return value');
  }

  get table(): Locator {
    return this.page.getByRole('table', { name: 'Deployed functions' });
  }

  /** The deployed function's button in the table (it selects the function). */
  listed(name: string): Locator {
    return this.table.getByRole('button', { name, exact: true });
  }

  /** Deploys through the page's folder input: the browser reads the folder and uploads it as a tar. */
  async deploy(name: string, dir: string): Promise<void> {
    await this.show('Functions');
    await this.folder.setInputFiles(dir);
    await expect(this.page.getByText(/^Chosen: /)).toBeVisible();
    await this.name.fill(name);
    await this.deployButton.click();
    await expect(this.listed(name)).toBeVisible();
  }

  /** Deploys a zip through the page's zip input (the browser unpacks it and uploads a tar). */
  async deployZip(name: string, zipFile: string): Promise<void> {
    await this.show('Functions');
    await this.page.getByLabel('or a zip', { exact: true }).setInputFiles(zipFile);
    await expect(this.page.getByText(/^Chosen: /)).toBeVisible();
    await this.name.fill(name);
    await this.deployButton.click();
    await expect(this.listed(name)).toBeVisible();
  }

  /** Selects a deployed function (a click on its entry in the list). */
  async select(name: string): Promise<void> {
    await this.listed(name).click();
  }

  /** Invokes the selected function; waits for a result and returns the tier it shows. */
  async invoke(name: string, eventJson: string): Promise<Tier> {
    await this.show('Functions');
    await this.select(name);
    await this.event.fill(eventJson);
    // the answer of this very call (web mode: the panel's HTTP bridge), not the result of an earlier one still shown
    const answered = this.page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(`/run/${encodeURIComponent(name)}`));
    await this.invokeButton.click();
    const response = await answered;
    const tier = response.headers()[TIER_HEADER];
    // the button says "Invoking…" until the answer is rendered
    await expect(this.invokeButton).toBeEnabled();
    if (tier) await expect(this.tier).toHaveText(tier);
    else await expect(this.tier).toBeVisible();
    return (await this.tier.innerText()).trim() as Tier;
  }
}
