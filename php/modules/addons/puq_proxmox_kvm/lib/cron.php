<?php
/**
 * The cron's glue: runs the extension's task runner and prints its live output, writes
 * module-log entries, and never lets a failure escape into WHMCS's own cron.
 */

if (!defined('WHMCS') && PHP_SAPI !== 'cli') {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/bootstrap.php';

/** The --help text. */
function puq_proxmox_kvm_cron_help(): string
{
    $tasks = class_exists('PuqProxmoxKvm\\Cron', false)
        ? \PuqProxmoxKvm\Cron::availableTasks()
        : [];
    $lines = [
        'PUQ Proxmox KVM - Standalone Cron',
        '',
        'Usage:',
        'php cron.php                Run all tasks (with interval checks)',
        'php cron.php --task=processVirtualMachines  Run single task (skip interval check)',
        'php cron.php --force        Run all tasks (skip interval checks)',
        'php cron.php --list         Show tasks status',
        'php cron.php --no-lock      Run without lock file (debug)',
        'php cron.php --help         Show this help',
        '',
        'Available tasks:',
    ];
    foreach ($tasks as $task) {
        $lines[] = sprintf('%s - %s (default: %dm)', $task['name'], $task['label'], $task['default_interval']);
    }
    if ($tasks === []) {
        $lines[] = '(the puq_proxmox_kvm extension is not loaded)';
    }
    return implode("\n", $lines) . "\n";
}

/**
 * Prints one line of live output at once and writes its module-log entry, if any (WHMCS's
 * logModuleCall runs only here, on the PHP side).
 */
function puq_proxmox_kvm_cron_printer(bool $print): \Closure
{
    return function (array $event) use ($print): void {
        if ($print) {
            echo '[' . gmdate('H:i:s') . '] ' . $event['message'], "\n";
            flush();
        }
        if (!empty($event['module_log'])) {
            $log = $event['module_log'];
            puq_proxmox_kvm_log($log['action'], $log['request'], $log['response']);
        }
    };
}

/**
 * Sends the emails the cron's steps earned ("VM is ready", ...) through WHMCS's localAPI, which
 * runs only on the PHP side, and reports each result; a failure goes to the module log and is
 * retried on the next run (given up after 5 attempts). Returns how many were sent.
 */
function puq_proxmox_kvm_cron_send_emails(bool $print): int
{
    if (!function_exists('localAPI')) {
        return 0;
    }
    $cron = puq_proxmox_kvm()->cron();
    $sent = 0;
    foreach ($cron->claimEmails() as $email) {
        $what = $email['template'] . ' for service ' . $email['service_id'];
        try {
            $answer = localAPI('SendEmail', ['messagename' => $email['template'], 'id' => (int) $email['service_id']]);
            $error = ($answer['result'] ?? '') === 'success' ? null : (string) ($answer['message'] ?? 'not sent');
        } catch (\Throwable $e) {
            $error = get_class($e) . ': ' . $e->getMessage();
        }
        $givenUp = $cron->emailSent((int) $email['id'], $error);
        if ($error === null) {
            $sent++;
        } else {
            puq_proxmox_kvm_log('email', $what, $error . ($givenUp ? ' (given up after 5 attempts)' : ' (retried on the next cron run)'));
        }
        if ($print) {
            echo '[' . gmdate('H:i:s') . '] email ' . $what . ': ' . ($error === null ? 'sent' : 'not sent - ' . $error), "\n";
            flush();
        }
    }
    return $sent;
}

/** `php cron.php [...]`; returns the exit code (1 when a task failed). */
function puq_proxmox_kvm_cron_cli(array $options): int
{
    try {
        $cron = puq_proxmox_kvm()->cron();
        if (isset($options['list'])) {
            printf("%-24s %-9s %-20s %-8s %-10s %s\n", 'Task', 'Interval', 'Last run (UTC)', 'Status', 'Duration', 'Message');
            foreach ($cron->tasks() as $t) {
                printf(
                    "%-24s %-9s %-20s %-8s %-10s %s\n",
                    $t['task'],
                    $t['interval'] === 0 ? 'disabled' : $t['interval'] . 'm',
                    $t['last_started_at'] ?? 'never',
                    $t['last_status'],
                    sprintf('%.2fs', $t['last_duration_ms'] / 1000),
                    $t['locked_by'] ? 'running on ' . $t['locked_by'] : $t['last_message']
                );
            }
            return 0;
        }
        echo '[' . gmdate('H:i:s') . "] PUQ Proxmox KVM Cron Start\n";
        $report = $cron->run([
            'trigger' => 'cli',
            'task' => $options['task'] ?? null,
            'force' => isset($options['force']),
            'no_lock' => isset($options['no-lock']),
            'server_passwords' => puq_proxmox_kvm_server_passwords(),
        ], puq_proxmox_kvm_cron_printer(true));
        $failed = false;
        foreach ($report['tasks'] as $task) {
            if ($task['status'] === 'locked') {
                echo '[' . gmdate('H:i:s') . "] [{$task['task']}] skipped: {$task['message']}\n";
            }
            foreach ($task['details'] as $line) {
                echo "  $line\n";
            }
            $failed = $failed || $task['status'] === 'error';
        }
        puq_proxmox_kvm_cron_send_emails(true);
        echo '[' . gmdate('H:i:s') . "] PUQ Proxmox KVM Cron End\n";
        return $failed ? 1 : 0;
    } catch (\Throwable $e) {
        fwrite(STDERR, 'PUQ Proxmox KVM cron: ' . $e->getMessage() . "\n");
        puq_proxmox_kvm_log('cron', '', get_class($e) . ': ' . $e->getMessage());
        return 2;
    }
}

/** WHMCS's AfterCronJob: runs the due tasks in hook mode. Never throws. */
function puq_proxmox_kvm_cron_hook(): void
{
    try {
        puq_proxmox_kvm()->cron()->run(
            ['trigger' => 'hook', 'server_passwords' => puq_proxmox_kvm_server_passwords()],
            puq_proxmox_kvm_cron_printer(false)
        );
        puq_proxmox_kvm_cron_send_emails(false);
    } catch (\Throwable $e) {
        puq_proxmox_kvm_log('cron hook', '', get_class($e) . ': ' . $e->getMessage());
    }
}
