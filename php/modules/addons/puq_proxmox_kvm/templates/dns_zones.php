<?php
/** Not built yet in this version: says so plainly. */
if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}
?>
<div class="alert alert-info puq-not-built">
  <strong><?= puq_e($view['pages'][$view['page']]) ?></strong> is not available in this version of the module yet.
  It arrives in a coming release; nothing needs to be configured here for now.
</div>
