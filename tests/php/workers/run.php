<?php
/**
 * Runs allocate.php in $processes PHP processes at once over $serviceIds (split round-robin) and
 * returns their reports plus `wall` (seconds from the common start to the last finish).
 */
function puq_run_allocators(array $db, array $serviceIds, int $processes): array
{
    $chunks = array_fill(0, $processes, []);
    foreach (array_values($serviceIds) as $i => $id) {
        $chunks[$i % $processes][] = $id;
    }
    $startAt = microtime(true) + 1.0;
    $children = [];
    foreach ($chunks as $i => $chunk) {
        $file = tempnam(sys_get_temp_dir(), 'puq_alloc_');
        file_put_contents($file, json_encode(['db' => $db, 'services' => $chunk, 'start_at' => $startAt]));
        $cmd = array_merge([PHP_BINARY], WhmcsHarness::extensionFlags(), [__DIR__ . '/allocate.php', $file]);
        $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        if (!is_resource($proc)) {
            throw new RuntimeException('unable to start an allocator process');
        }
        $children[] = [$proc, $pipes, $file];
    }
    $reports = [];
    foreach ($children as [$proc, $pipes, $file]) {
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        $code = proc_close($proc);
        unlink($file);
        $report = json_decode(trim((string) $out), true);
        if ($code !== 0 || !is_array($report)) {
            throw new RuntimeException("allocator exited with $code: $out $err");
        }
        $reports[] = $report;
    }
    return ['reports' => $reports, 'wall' => microtime(true) - $startAt];
}
