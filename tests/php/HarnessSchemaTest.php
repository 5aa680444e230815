<?php

use PHPUnit\Framework\TestCase;

/**
 * tests/whmcs/schema.sql must define WHMCS's tables exactly as the reference dump of a real WHMCS 8.12+
 * does (../shared/spec/whmcs/whmcs-tables.sql beside the repository; skipped where it is absent).
 * Both files are loaded into scratch databases and compared through information_schema.
 */
final class HarnessSchemaTest extends TestCase
{
    private const REFERENCE = WhmcsHarness::REPO . '/../shared/spec/whmcs/whmcs-tables.sql';
    private const HARNESS = WhmcsHarness::REPO . '/tests/whmcs/schema.sql';

    /** @var string[] */
    private array $databases = [];

    protected function tearDown(): void
    {
        foreach ($this->databases as $database) {
            WhmcsHarness::serverPdo()->exec("DROP DATABASE IF EXISTS `$database`");
        }
    }

    public function testHarnessTablesMatchRealWhmcs(): void
    {
        if (!is_file(self::REFERENCE)) {
            $this->markTestSkipped('no reference WHMCS schema at ' . self::REFERENCE);
        }
        $reference = $this->load(self::REFERENCE);
        $harness = $this->load(self::HARNESS);

        $this->assertCount(24, $reference, 'the reference holds the 24 tables a module touches');
        $this->assertSame(array_keys($reference), array_keys($harness), 'same tables');
        foreach ($reference as $table => $columns) {
            $this->assertSame($columns, $harness[$table], "columns of $table");
        }
    }

    /** @return array<string, list<array>> table => its columns in order: name, type, nullability, default, extra */
    private function load(string $file): array
    {
        $database = 'puq_t_' . getmypid() . '_schema_' . bin2hex(random_bytes(4));
        $this->databases[] = $database;
        WhmcsHarness::serverPdo()->exec("CREATE DATABASE `$database`");
        WhmcsHarness::loadSqlFile(WhmcsHarness::serverPdo($database), $file);

        $stmt = WhmcsHarness::serverPdo()->prepare(
            'SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLLATION_NAME
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION'
        );
        $stmt->execute([$database]);
        $tables = [];
        foreach ($stmt->fetchAll(PDO::FETCH_ASSOC) as $column) {
            $tables[array_shift($column)][] = $column;
        }
        return $tables;
    }
}
