<?php
// PHPUnit bootstrap: the WHMCS harness. The extension is loaded by the command line
// (php -d extension=$PUQ_EXTENSION /usr/bin/phpunit -c tests/phpunit.xml), not here.
require_once __DIR__ . '/../whmcs/WhmcsHarness.php';
require_once __DIR__ . '/../whmcs/PveSimulator.php';
