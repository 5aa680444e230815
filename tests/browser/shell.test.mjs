// The harness's admin shell in a real browser, with the probe addon (tests/php/fixtures/probe-modules):
// chromium starts, the page loads, jQuery and Bootstrap come from the local vendor paths, hooks and
// the CSRF token reach the page. Independent of the real addon.

import test from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, screenshot, startHarness } from './lib.mjs';

test('admin shell: vendor assets, hook output and the addon content', async (t) => {
  const whmcs = await startHarness('probe');
  t.after(() => whmcs.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage();
  const failed = [];
  page.on('requestfailed', (request) => failed.push(request.url()));
  page.on('response', (response) => { if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`); });

  const response = await page.goto(`${whmcs.baseUrl}/admin/addonmodules.php?module=harness_probe`);
  assert.equal(response.status(), 200);
  assert.equal(await page.title(), 'Harness Probe - WHMCS Admin');
  assert.equal(await page.evaluate(() => typeof window.jQuery.fn.modal), 'function', 'jQuery and Bootstrap JS loaded');
  assert.match(await page.evaluate(() => window.csrfToken), /^[0-9a-f]{40}$/);
  assert.equal(await page.locator('meta[name="probe-hook"]').count(), 1, 'AdminAreaHeadOutput hook');
  assert.equal(await page.locator('#probe').getAttribute('data-greeting'), 'hello');
  const navbarColor = await page.locator('#whmcs-topbar').evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(navbarColor, 'rgb(34, 34, 34)', 'Bootstrap CSS applied (navbar-inverse)');

  await screenshot(page, 'shell.png');
  assert.deepEqual(failed, []);
});
