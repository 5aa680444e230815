<?php
/**
 * The WHMCS admin area frame around an addon page (required by router.php).
 * In: $title (the addon's _config name), $content (its _output), $headOutput / $footerOutput
 * (AdminAreaHeadOutput / AdminAreaFooterOutput hook results), $csrfToken.
 * Like WHMCS's admin template: Bootstrap 3 CSS and JS, jQuery in <head>, a global `csrfToken`
 * for scripts, the page title as <h1>, the addon output in #contentarea.
 */
$e = static fn (string $text): string => htmlspecialchars($text, ENT_QUOTES, 'UTF-8');
?><!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title><?= $e($title) ?> - WHMCS Admin</title>
    <link rel="stylesheet" href="/assets/vendor/bootstrap/css/bootstrap.min.css">
    <script src="/assets/vendor/jquery/jquery.min.js"></script>
    <script src="/assets/vendor/bootstrap/js/bootstrap.min.js"></script>
    <script>var csrfToken = <?= json_encode($csrfToken) ?>;</script>
    <?= $headOutput ?>
</head>
<body class="whmcs-admin">
<nav class="navbar navbar-inverse navbar-static-top" id="whmcs-topbar">
    <div class="container-fluid">
        <span class="navbar-brand">WHMCS Admin</span>
        <ul class="nav navbar-nav">
            <li><a href="#">Clients</a></li>
            <li><a href="#">Orders</a></li>
            <li><a href="#">Billing</a></li>
            <li><a href="#">Support</a></li>
            <li><a href="#">Reports</a></li>
            <li><a href="#">Utilities</a></li>
            <li class="active"><a href="#">Addons</a></li>
        </ul>
    </div>
</nav>
<div class="container-fluid" id="contentarea">
    <h1><?= $e($title) ?></h1>
    <?= $content ?>
</div>
<?= $footerOutput ?>
</body>
</html>
