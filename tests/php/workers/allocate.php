<?php
/**
 * One allocator process for the concurrency test and the benchmark:
 *
 *   php -d extension=... tests/php/workers/allocate.php <job.json>
 *
 * job.json: {"db": <Module::connect() settings>, "services": [ids], "start_at": unix time (float)}.
 * Waits until start_at so every worker starts together, allocates each service once, and prints one
 * JSON line: {"allocated": n, "addresses": n, "errors": [messages], "seconds": wall time of the loop}.
 */

$job = json_decode((string) file_get_contents($argv[1] ?? ''), true);
if (!is_array($job)) {
    fwrite(STDERR, "usage: allocate.php <job.json>\n");
    exit(2);
}
$pools = \PuqProxmoxKvm\Module::connect($job['db'])->ipPools();
$wait = (float) ($job['start_at'] ?? 0) - microtime(true);
if ($wait > 0) {
    usleep((int) ($wait * 1e6));
}
$started = microtime(true);
$allocated = $addresses = 0;
$errors = [];
foreach ($job['services'] as $serviceId) {
    try {
        $addresses += count($pools->allocate((int) $serviceId));
        $allocated++;
    } catch (\Throwable $e) {
        $errors[] = "service $serviceId: " . get_class($e) . ': ' . $e->getMessage();
    }
}
echo json_encode([
    'allocated' => $allocated,
    'addresses' => $addresses,
    'errors' => $errors,
    'seconds' => microtime(true) - $started,
]), "\n";
