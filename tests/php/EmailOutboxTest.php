<?php
/**
 * The emails cron's steps earn ("VM is ready", "Upgrade Email") wait in the outbox until the
 * PHP side sends them through localAPI: sent once, retried after a failure with the reason in
 * the module log, given up after 5 attempts, and never sent by two cron processes at once.
 */

use PHPUnit\Framework\TestCase;

final class EmailOutboxTest extends TestCase
{
    private WhmcsHarness $whmcs;

    protected function setUp(): void
    {
        if (!extension_loaded('puq_proxmox_kvm')) {
            $this->markTestSkipped('run with -d extension=$PUQ_EXTENSION');
        }
        $this->whmcs = WhmcsHarness::create();
        $this->whmcs->setConfiguration('ModuleDebugMode', 'on');
        $this->whmcs->activateAddon();
        require_once $this->whmcs->root . '/modules/addons/puq_proxmox_kvm/lib/cron.php';
    }

    protected function tearDown(): void
    {
        if (isset($this->whmcs)) {
            $this->whmcs->destroy();
        }
    }

    /** Queues $template for a new service as a step does; returns the service id. */
    private function queued(string $template): int
    {
        $service = $this->whmcs->addService(['domainstatus' => 'Active']);
        $this->whmcs->pdo()->exec("INSERT INTO puq_proxmox_kvm_email_outbox (service_id, run_id, template, queued_at) VALUES ($service, 1, " . $this->whmcs->pdo()->quote($template) . ', UTC_TIMESTAMP())');
        return $service;
    }

    private function sends(): array
    {
        return array_values(array_map(
            fn ($c) => $c['values']['messagename'] . ' ' . $c['values']['id'],
            array_filter($this->whmcs->localApiCalls(), fn ($c) => $c['command'] === 'SendEmail')
        ));
    }

    private function row(int $service): array
    {
        return $this->whmcs->pdo()->query("SELECT sent_at IS NOT NULL AS sent, attempts, last_error FROM puq_proxmox_kvm_email_outbox WHERE service_id = $service")->fetch(PDO::FETCH_ASSOC);
    }

    public function testAQueuedEmailIsSentOnce(): void
    {
        $this->whmcs->addEmailTemplate('puqProxmoxKVM VM is ready');
        $service = $this->queued('puqProxmoxKVM VM is ready');

        ob_start();
        $sent = puq_proxmox_kvm_cron_send_emails(true);
        $output = ob_get_clean();
        $this->assertSame(1, $sent);
        $this->assertStringContainsString("email puqProxmoxKVM VM is ready for service $service: sent", $output);
        $this->assertSame(["puqProxmoxKVM VM is ready $service"], $this->sends());
        $this->assertSame(['sent' => 1, 'attempts' => 0, 'last_error' => null], array_map(fn ($v) => is_numeric($v) ? (int) $v : $v, $this->row($service)));

        $this->assertSame(0, puq_proxmox_kvm_cron_send_emails(false), 'nothing left to send');
        $this->assertCount(1, $this->sends());
    }

    public function testAFailingEmailIsRetriedThenGivenUp(): void
    {
        // No such template in WHMCS: localAPI answers an error.
        $service = $this->queued('puqProxmoxKVM Upgrade Email');

        for ($run = 1; $run <= 4; $run++) {
            $this->assertSame(0, puq_proxmox_kvm_cron_send_emails(false));
            $this->assertSame(['sent' => 0, 'attempts' => $run, 'last_error' => 'Email Template not found'], array_map(fn ($v) => is_numeric($v) ? (int) $v : $v, $this->row($service)));
        }
        $log = array_values(array_filter($this->whmcs->moduleLog(), fn ($r) => $r['action'] === 'email'));
        $this->assertCount(4, $log);
        $this->assertStringContainsString("puqProxmoxKVM Upgrade Email for service $service", $log[0]['request']);
        $this->assertStringContainsString('Email Template not found (retried on the next cron run)', $log[0]['response']);

        // Fixed in WHMCS before the last attempt: sent.
        $this->whmcs->addEmailTemplate('puqProxmoxKVM Upgrade Email');
        $this->assertSame(1, puq_proxmox_kvm_cron_send_emails(false));
        $this->assertSame(1, (int) $this->row($service)['sent']);

        // Never fixed: the fifth failure gives it up.
        $other = $this->queued('puqProxmoxKVM Missing Template');
        for ($run = 1; $run <= 5; $run++) {
            puq_proxmox_kvm_cron_send_emails(false);
        }
        $this->assertSame(5, (int) $this->row($other)['attempts']);
        $log = array_values(array_filter($this->whmcs->moduleLog(), fn ($r) => $r['action'] === 'email' && str_contains($r['request'], 'Missing')));
        $this->assertCount(5, $log);
        $this->assertStringContainsString('(given up after 5 attempts)', end($log)['response']);
        $calls = count($this->sends());
        puq_proxmox_kvm_cron_send_emails(false);
        $this->assertCount($calls, $this->sends(), 'a given-up email is not tried again');
    }

    public function testTwoCronProcessesNeverSendOneEmailTwice(): void
    {
        $this->whmcs->addEmailTemplate('puqProxmoxKVM VM is ready');
        $services = [$this->queued('puqProxmoxKVM VM is ready'), $this->queued('puqProxmoxKVM VM is ready')];
        $cron = puq_proxmox_kvm()->cron();

        // One process claimed them and has not reported yet: another finds nothing to send.
        $claimed = $cron->claimEmails();
        $this->assertSame($services, array_map(fn ($e) => $e['service_id'], $claimed));
        $this->assertSame(0, puq_proxmox_kvm_cron_send_emails(false));
        $this->assertSame([], $this->sends());

        // That process died: once its claim runs out (2 min), the next run sends them.
        $this->whmcs->pdo()->exec('UPDATE puq_proxmox_kvm_email_outbox SET claim_until = UTC_TIMESTAMP() - INTERVAL 1 SECOND');
        $this->assertSame(2, puq_proxmox_kvm_cron_send_emails(false));
        $this->assertCount(2, $this->sends());
    }

    public function testBadArgumentsNameTheField(): void
    {
        $cron = puq_proxmox_kvm()->cron();
        try {
            $cron->claimEmails(0);
            $this->fail('a limit of 0 is refused');
        } catch (\PuqProxmoxKvm\Exception\ValidationException $e) {
            $this->assertSame('limit', $e->getField());
            $this->assertStringContainsString('between 1 and 1000', $e->getMessage());
        }
        try {
            $cron->emailSent(-3, null);
            $this->fail('a negative id is refused');
        } catch (\PuqProxmoxKvm\Exception\ValidationException $e) {
            $this->assertSame('id', $e->getField());
        }
    }
}
