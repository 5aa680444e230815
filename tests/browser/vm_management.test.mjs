// VM Management: a fleet in mixed states; filters (remembered), search by IP, the log of a
// failed run, Reset, Redeploy, the DB Record editor's checks, Delete Record.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, screenshot, startHarness, waitForText } from './lib.mjs';

function dbValue(db, sql) {
  return execFileSync('mariadb', ['-h127.0.0.1', '-uroot', '-N', '-B', db, '-e', sql], { encoding: 'utf8' }).trim();
}

async function rowIds(page) {
  return page.locator('.puq-vm-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.service));
}

test('vm management: list, filter, search, log, reset, redeploy, record, delete', async (t) => {
  const whmcs = await startHarness('fleet');
  t.after(() => whmcs.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const url = `${whmcs.baseUrl}/admin/addonmodules.php?module=puq_proxmox_kvm&page=vm_management`;
  await page.goto(url);

  await waitForText(page.locator('.puq-vm-info'), 'Showing 1 to 5 of 5 entries');
  assert.deepEqual(await rowIds(page), ['5551', '5550', '5549', '5547', '5546'], 'newest service first');
  const ready = page.locator('tr[data-service="5549"]');
  assert.equal(await ready.locator('.puq-vm').textContent(), '2004 5549-1776530149');
  const ips = await ready.locator('.puq-ip').allInnerTexts();
  assert.deepEqual(ips.map((s) => s.replace(/\s+/g, ' ').trim()), [
    '192.168.130.4 5549-1776530149.puqcloud.com',
    '192.168.130.5 mail.example.com',
    '2001:db8::3 5549-1776530149.puqcloud.com',
    '2001:db8::4 5549-1776530149.puqcloud.com',
  ]);
  // Buttons exactly as the spec says.
  assert.deepEqual(await ready.locator('[data-action]').evaluateAll((b) => b.map((x) => x.dataset.action)), ['reset', 'log', 'record']);
  assert.deepEqual(await page.locator('tr[data-service="5551"] [data-action]').evaluateAll((b) => b.map((x) => x.dataset.action)),
    ['redeploy', 'reset', 'log', 'record', 'delete']);
  assert.deepEqual(await page.locator('tr[data-service="5546"] [data-action]').evaluateAll((b) => b.map((x) => x.dataset.action)),
    ['redeploy', 'reset', 'log', 'record']);
  assert.match(await page.locator('tr[data-service="5546"] .puq-vm-error').textContent(), /HTTP 500/);

  // Filters, remembered across a reload.
  await page.selectOption('[data-filter="service_status"]', 'Active');
  await waitForText(page.locator('.puq-vm-info'), 'Showing 1 to 3 of 3 entries (filtered from 5 total entries)');
  await page.selectOption('[data-filter="vm_status"]', 'ready');
  await waitForText(page.locator('.puq-vm-info'), 'Showing 1 to 2 of 2 entries (filtered from 5 total entries)');
  await page.reload();
  await waitForText(page.locator('.puq-vm-info'), 'Showing 1 to 2 of 2 entries (filtered from 5 total entries)');
  assert.equal(await page.locator('[data-filter="vm_status"]').inputValue(), 'ready');
  await page.selectOption('[data-filter="service_status"]', '');
  await page.selectOption('[data-filter="vm_status"]', '');
  await waitForText(page.locator('.puq-vm-info'), 'Showing 1 to 5 of 5 entries');

  // Search an IP.
  await page.fill('[name="search"]', '2001:db8::7');
  await waitForText(page.locator('.puq-vm-info'), 'Showing 1 to 1 of 1 entries (filtered from 5 total entries)');
  assert.deepEqual(await rowIds(page), ['5546']);

  // The log of the failed deploy: red banner and the failing step.
  await page.click('tr[data-service="5546"] [data-action="log"]');
  const log = page.locator('#puq-vm-log');
  await waitForText(log.locator('.puq-log-banner'), 'Last run failed - deploy: unable to update VM 2005 - HTTP 500');
  assert.equal(await log.locator('.puq-step-result').count(), 2);
  assert.equal(await log.locator('.puq-step-result').nth(1).textContent(), 'error: unable to update VM 2005 - HTTP 500');
  await page.locator('#puq-vm-log.in .puq-log-banner').waitFor({ state: 'visible' });
  await page.waitForTimeout(400); // Bootstrap's fade-in
  await screenshot(page, 'vm_management_log.png');
  await log.locator('.close').click();
  await log.waitFor({ state: 'hidden' });

  // Reset to creation: cron will retry from the start.
  await page.click('tr[data-service="5546"] [data-action="reset"]');
  await page.selectOption('#puq-reset-status', 'creation');
  await page.click('[data-confirm="reset"]');
  await waitForText(page.locator('tr[data-service="5546"] .puq-vm-status .label'), 'CREATION');
  assert.equal(dbValue(whmcs.db, 'SELECT CONCAT(vm_status, "|", vm_last_error IS NULL) FROM puqProxmoxKVM_vm_info WHERE service_id = 5546'), 'creation|1');

  // The DB Record editor refuses JSON that does not parse, next to the field.
  await page.fill('[name="search"]', '');
  await waitForText(page.locator('.puq-vm-info'), 'Showing 1 to 5 of 5 entries');
  await page.click('tr[data-service="5549"] [data-action="record"]');
  const record = page.locator('#puq-vm-record');
  await record.locator('[name="vm_rev_dns"]').waitFor();
  await record.locator('[name="vm_rev_dns"]').fill('{"192.168.130.5": ');
  await record.locator('[data-confirm="record"]').click();
  await waitForText(record.locator('[data-field="vm_rev_dns"] .puq-field-error'), /^vm_rev_dns: must be valid JSON/);
  assert.equal(dbValue(whmcs.db, 'SELECT vm_rev_dns FROM puqProxmoxKVM_vm_info WHERE service_id = 5549'), '{"192.168.130.5": "mail.example.com"}');
  await record.locator('[name="vm_rev_dns"]').fill('{"192.168.130.5": "smtp.example.com"}');
  await record.locator('[data-confirm="record"]').click();
  await record.waitFor({ state: 'hidden' });
  assert.equal(dbValue(whmcs.db, 'SELECT vm_rev_dns FROM puqProxmoxKVM_vm_info WHERE service_id = 5549'), '{"192.168.130.5": "smtp.example.com"}');

  // Redeploy a removed VM that never reached Proxmox: back to creation, log cleared.
  page.once('dialog', (dialog) => dialog.accept());
  await page.click('tr[data-service="5551"] [data-action="redeploy"]');
  await waitForText(page.locator('tr[data-service="5551"] .puq-vm-status .label'), 'CREATION');
  assert.equal(dbValue(whmcs.db, 'SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = 5551'), 'creation');

  // Delete Record on a VM in error_terminate: the row goes, the WHMCS service stays.
  await page.click('tr[data-service="5547"] [data-action="delete"]');
  await page.click('[data-confirm="delete"]');
  await waitForText(page.locator('.puq-vm-info'), 'Showing 1 to 4 of 4 entries');
  assert.equal(dbValue(whmcs.db, 'SELECT COUNT(*) FROM puqProxmoxKVM_vm_info WHERE service_id = 5547'), '0');
  assert.equal(dbValue(whmcs.db, 'SELECT domainstatus FROM tblhosting WHERE id = 5547'), 'Suspended');

  await screenshot(page, 'vm_management.png');
  assert.deepEqual(pageErrors, []);
});
