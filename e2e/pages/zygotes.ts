// The Zygotes view: the lineage drawn as an SVG tree ("Zygote lineage"), one node (a button) per Zygote whose
// accessible name says what it adds ("Zygote z3, running, adds pkg==1.0, 2 hits, 12 MB").

import { expect, Locator, Page } from '@playwright/test';
import { PanelPage } from './panel';

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class ZygotesPage extends PanelPage {
  constructor(page: Page) {
    super(page);
  }

  get tree(): Locator {
    return this.page.getByRole('group', { name: 'Zygote lineage' });
  }

  get nodes(): Locator {
    return this.tree.getByRole('button');
  }

  /** The node that adds this package (name==version). */
  node(pkg: string): Locator {
    return this.tree.getByRole('button', { name: new RegExp(`adds [^,]*\\b${escape(pkg)}\\b`) });
  }

  /** Shows the view and waits until it loaded (a tree, or the sentence saying there is none yet). */
  async showLoaded(): Promise<void> {
    await this.show('Zygotes');
    await expect(this.tree.or(this.page.getByText('No Zygotes yet'))).toBeVisible();
  }
}
