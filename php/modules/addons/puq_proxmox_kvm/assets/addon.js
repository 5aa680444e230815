/* PUQ Proxmox KVM admin pages: talks to the module's JSON actions (same module link). */
(function ($) {
  'use strict';
  var root = $('#puq-kvm');
  if (!root.length) { return; }
  var link = root.data('link');
  var token = root.data('token');

  /** Calls a JSON action; resolves with `data`, rejects with {error, field}. */
  function api(action, params, method) {
    method = method || 'GET';
    var data = $.extend({}, params || {});
    if (method === 'POST') { data.token = token; }
    return $.ajax({ url: link + '&action=' + encodeURIComponent(action), method: method, data: data, dataType: 'json' })
      .then(function (body) { return body.data; }, function (xhr) {
        var body = xhr.responseJSON || {};
        return $.Deferred().reject({ error: body.error || ('request failed: HTTP ' + xhr.status), field: body.field });
      });
  }

  function showError(scope, message) {
    scope.find('.puq-error').first().text(message).removeClass('hidden');
  }

  // Dashboard cards.
  $('[data-source="dashboard"]').each(function () {
    var cards = $(this);
    api('dashboard').then(function (data) {
      cards.find('.puq-count').each(function () {
        var value = data[$(this).data('field')];
        $(this).text(value === null || value === undefined ? 'n/a' : value);
        if (value === null) { $(this).attr('title', 'Not available in this version yet'); }
      });
    }, function (err) { showError(root, err.error); });
  });

  // Settings form.
  $('form.puq-settings').each(function () {
    var form = $(this);
    function fill(values) {
      $.each(values, function (name, value) {
        var input = form.find('[name="' + name + '"]');
        if (input.attr('type') === 'checkbox') { input.prop('checked', !!value); } else { input.val(value); }
      });
    }
    api('settings').then(fill, function (err) { showError(form, err.error); });
    form.on('submit', function (event) {
      event.preventDefault();
      form.find('.has-error').removeClass('has-error');
      form.find('.puq-field-error').text('');
      form.find('.puq-error, .puq-saved').addClass('hidden');
      var values = {};
      form.find('[name]').each(function () {
        var input = $(this);
        values[input.attr('name')] = input.attr('type') === 'checkbox' ? (input.prop('checked') ? '1' : '0') : input.val();
      });
      api('save_settings', values, 'POST').then(function (saved) {
        fill(saved);
        form.find('.puq-saved').removeClass('hidden');
      }, function (err) {
        var group = err.field ? form.find('[data-field="' + err.field + '"]') : $();
        if (group.length) {
          group.addClass('has-error').find('.puq-field-error').text(err.error);
        } else {
          showError(form, err.error);
        }
      });
    });
  });
}(jQuery));

/* DNS Zones page. Secrets never come from the server (they read KEEP); the form leaves them
   empty with a placeholder, and an empty secret keeps the stored one. */
(function ($) {
  'use strict';
  var page = $('.puq-dns-zones');
  if (!page.length) { return; }
  var root = $('#puq-kvm');
  var link = root.data('link');
  var token = root.data('token');
  var form = page.find('.puq-dns-form');
  var tbody = page.find('.puq-dns-table tbody');
  var zones = {};
  var KEEP_HINT = '(unchanged \u2013 enter new to replace)';

  function api(action, params, method) {
    method = method || 'GET';
    var data = $.extend({}, params || {});
    if (method === 'POST') { data.token = token; }
    return $.ajax({ url: link + '&action=' + encodeURIComponent(action), method: method, data: data, dataType: 'json' })
      .then(function (body) { return body.data; }, function (xhr) {
        var body = xhr.responseJSON || {};
        return $.Deferred().reject({ error: body.error || ('request failed: HTTP ' + xhr.status), field: body.field });
      });
  }

  function toast(ok, message) {
    var box = page.find('.puq-toast');
    box.removeClass('hidden alert-success alert-danger').addClass(ok ? 'alert-success' : 'alert-danger').text(message);
    clearTimeout(box.data('timer'));
    box.data('timer', setTimeout(function () { box.addClass('hidden'); }, 8000));
  }

  function showProvider(type) {
    form.find('.puq-dns-provider').each(function () {
      var on = $(this).data('provider') === type;
      $(this).toggleClass('hidden', !on).prop('disabled', !on);
    });
  }

  function clearErrors() {
    form.find('.has-error').removeClass('has-error');
    form.find('.puq-field-error').text('');
    form.find('.puq-form-error').addClass('hidden');
  }

  function openForm(zone) {
    clearErrors();
    form[0].reset();
    form.find('[name="id"]').val(zone ? zone.id : '');
    form.find('.puq-dns-form-title').text(zone ? 'Edit DNS Zone ' + zone.zone : 'Add DNS Zone');
    form.find('[name="zone"]').val(zone ? zone.zone : '');
    var type = zone ? zone.type : form.find('[name="type"] option').first().val();
    form.find('[name="type"]').val(type);
    showProvider(type);
    form.find('.puq-dns-provider input').each(function () {
      var input = $(this);
      var secret = input.data('secret');
      var own = zone && input.closest('.puq-dns-provider').data('provider') === zone.type;
      if (secret) {
        input.val('').attr('placeholder', own && zone[input.attr('name')] === 'KEEP' ? KEEP_HINT : '');
      } else {
        input.val(own ? (zone[input.attr('name')] || '') : '');
      }
    });
    form.removeClass('hidden');
    form.find('[name="zone"]').trigger('focus');
  }

  function row(zone) {
    var tr = $('<tr>').attr('data-id', zone.id);
    tr.append($('<td class="puq-zone-name">').text(zone.zone));
    tr.append($('<td class="puq-zone-type">').text(zone.type_label));
    var actions = $('<td class="text-right">');
    actions.append($('<button type="button" class="btn btn-default btn-sm puq-dns-test">').text('Test'), ' ');
    actions.append($('<button type="button" class="btn btn-default btn-sm puq-dns-edit">').text('Edit'), ' ');
    actions.append($('<button type="button" class="btn btn-danger btn-sm puq-dns-delete">').text('Delete'));
    return tr.append(actions);
  }

  function load() {
    return api('dns_zones').then(function (list) {
      zones = {};
      tbody.empty();
      if (!list.length) {
        tbody.append('<tr class="puq-empty"><td colspan="3" class="text-muted">No DNS zones yet: add one to write VM records.</td></tr>');
      }
      $.each(list, function (_, zone) { zones[zone.id] = zone; tbody.append(row(zone)); });
    }, function (err) { page.find('.puq-error').first().text(err.error).removeClass('hidden'); });
  }

  page.find('.puq-dns-add').on('click', function () { openForm(null); });
  page.find('.puq-dns-cancel').on('click', function () { form.addClass('hidden'); });
  form.find('[name="type"]').on('change', function () { showProvider($(this).val()); });

  form.on('submit', function (event) {
    event.preventDefault();
    clearErrors();
    var values = { id: form.find('[name="id"]').val(), zone: form.find('[name="zone"]').val(), type: form.find('[name="type"]').val() };
    form.find('.puq-dns-provider:not(.hidden) input').each(function () { values[$(this).attr('name')] = $(this).val(); });
    api('dns_zone_save', values, 'POST').then(function (zone) {
      form.addClass('hidden');
      toast(true, 'Saved ' + zone.zone + ' (' + zone.type_label + ').');
      load();
    }, function (err) {
      var group = err.field ? form.find('.puq-dns-provider:not(.hidden) [data-field="' + err.field + '"], .form-group[data-field="' + err.field + '"]').filter(':visible') : $();
      if (group.length) {
        group.first().addClass('has-error').find('.puq-field-error').text(err.error);
      } else {
        form.find('.puq-form-error').text(err.error).removeClass('hidden');
      }
    });
  });

  tbody.on('click', '.puq-dns-edit', function () { openForm(zones[$(this).closest('tr').data('id')]); });
  tbody.on('click', '.puq-dns-test', function () {
    var button = $(this).prop('disabled', true);
    api('dns_zone_test', { id: button.closest('tr').data('id') }, 'POST').then(function (result) {
      toast(result.ok, result.message);
    }, function (err) { toast(false, err.error); }).always(function () { button.prop('disabled', false); });
  });
  tbody.on('click', '.puq-dns-delete', function () {
    var zone = zones[$(this).closest('tr').data('id')];
    if (!window.confirm('Delete the zone ' + zone.zone + ' from the module? Records already written stay at the provider.')) { return; }
    api('dns_zone_delete', { id: zone.id }, 'POST').then(function () {
      toast(true, 'Deleted ' + zone.zone + '.');
      load();
    }, function (err) { toast(false, err.error); });
  });

  load();
}(jQuery));
