// The Settings page: values load from the database, a bad value is refused next to its field
// and saves nothing, good values are saved, the Cron part lists the tasks of this version.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, screenshot, startHarness, waitForText } from './lib.mjs';

/** One value from the test's database, read with the mariadb client. */
function dbValue(db, sql) {
  return execFileSync('mariadb', ['-h127.0.0.1', '-uroot', '-N', '-B', db, '-e', sql], { encoding: 'utf8' }).trim();
}

test('settings: load, refuse a bad value, save good ones, cron tasks', async (t) => {
  const whmcs = await startHarness('settings');
  t.after(() => whmcs.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1366, height: 1100 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  const url = `${whmcs.baseUrl}/admin/addonmodules.php?module=puq_proxmox_kvm&page=settings`;
  await page.goto(url);
  const timeout = page.locator('input[name="default_timeout"]');
  await waitForText(page.locator('[data-task="processVirtualMachines"] .puq-last-run'), 'never');
  assert.equal(await timeout.inputValue(), '10');
  assert.equal(await page.locator('input[name="heavy_timeout"]').inputValue(), '60');
  assert.equal(await page.locator('input[name="interval_processVirtualMachines"]').inputValue(), '1');
  assert.equal(await page.locator('input[name="migration_enabled"]').isChecked(), true);
  assert.equal(await page.locator('[data-task]').count(), 1, 'only the tasks this version runs are listed');
  assert.equal(await page.locator('.puq-crontab').isVisible(), false, 'hook mode needs no crontab line');

  // Out of range: the message sits next to the field and nothing is saved.
  await timeout.fill('500');
  await page.locator('input[name="heavy_timeout"]').fill('120');
  await page.click('form.puq-settings button[type="submit"]');
  await waitForText(page.locator('[data-field="default_timeout"] .puq-field-error'), 'default_timeout: must be between 1 and 300, got 500');
  assert.equal(dbValue(whmcs.db, "SELECT COUNT(*) FROM puq_proxmox_kvm_settings WHERE setting IN ('default_timeout', 'heavy_timeout')"), '0');

  await timeout.fill('30');
  await page.selectOption('select[name="cron_mode"]', 'standalone');
  await page.locator('input[name="interval_processVirtualMachines"]').fill('2');
  assert.equal(await page.locator('.puq-crontab').isVisible(), true);
  assert.match(await page.locator('.puq-crontab-line').textContent(), /\* \* \* \* \* php \/.+\/modules\/addons\/puq_proxmox_kvm\/cron\.php/);
  await page.click('form.puq-settings button[type="submit"]');
  await page.locator('.puq-saved').waitFor({ state: 'visible' });
  assert.equal(
    dbValue(whmcs.db, "SELECT GROUP_CONCAT(setting, '=', value ORDER BY setting) FROM puq_proxmox_kvm_settings WHERE setting IN ('default_timeout', 'heavy_timeout', 'cron_mode', 'interval_processVirtualMachines')"),
    'cron_mode=standalone,default_timeout=30,heavy_timeout=120,interval_processVirtualMachines=2',
  );

  await page.reload();
  await waitForText(page.locator('[data-task="processVirtualMachines"] .puq-last-run'), 'never');
  assert.equal(await timeout.inputValue(), '30');
  assert.equal(await page.locator('select[name="cron_mode"]').inputValue(), 'standalone');
  await screenshot(page, 'settings.png');
  assert.deepEqual(pageErrors, []);
});
