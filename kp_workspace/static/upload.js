/* Uploads and exports with progress (KP Digital Workspace).
 *
 * Hand-written, no library, loaded with `defer` under the strict CSP: no inline
 * script or style; it only sets attributes, properties and the `hidden` flag.
 * Without it every form posts and every link downloads as before.
 *
 * - The attach form (form.attach-form): a file dropped on it is chosen; a file over
 *   the limit (data-limit, bytes) is refused before sending with the server's own
 *   message (data-too-large); the form is sent by XMLHttpRequest with a progress
 *   bar; on success the page the server names is opened, on a refusal its message
 *   is shown and the form is kept as it was.
 * - Export links (a[data-export]): fetched with a progress bar (from Content-Length
 *   when known), then saved under the server's file name.
 * All messages are in the page, already translated (elements .msg-*).
 */
(function () {
  'use strict';

  function text(root, name) {
    var el = root.querySelector('.msg-' + name);
    return el ? el.textContent.trim() : '';
  }

  function percent(done, total) {
    return total > 0 ? Math.min(100, Math.round(done * 100 / total)) : 0;
  }

  // Attach form ---------------------------------------------------------------
  function setUpAttachForm(form) {
    var input = form.querySelector('input[type="file"]');
    var status = form.querySelector('.upload-status');
    var bar = status.querySelector('progress');
    var message = status.querySelector('.upload-message');
    var error = form.querySelector('.upload-error');
    var button = form.querySelector('button[type="submit"]');
    var limit = parseInt(form.getAttribute('data-limit'), 10) || 0;
    var hint = form.querySelector('.drop-hint');
    if (hint) { hint.hidden = false; }

    function showError(msg) {
      error.textContent = msg;
      error.hidden = !msg;
    }

    function tooLarge() {
      var file = input.files && input.files[0];
      if (file && limit && file.size > limit) {
        showError(form.getAttribute('data-too-large'));
        return true;
      }
      showError('');
      return false;
    }

    input.addEventListener('change', tooLarge);

    // drag and drop onto the whole form
    form.addEventListener('dragover', function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, 'Files') >= 0) {
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
        form.classList.add('dragging');
      }
    });
    form.addEventListener('dragleave', function (event) {
      if (!form.contains(event.relatedTarget)) { form.classList.remove('dragging'); }
    });
    form.addEventListener('drop', function (event) {
      form.classList.remove('dragging');
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      event.preventDefault();
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
      input.focus();
    });

    form.addEventListener('submit', function (event) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }  // post it the old way
      event.preventDefault();
      if (tooLarge()) { input.focus(); return; }
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
      bar.removeAttribute('value');
      bar.max = 100;
      message.textContent = '';
      status.hidden = false;
      button.disabled = true;
      xhr.upload.addEventListener('progress', function (e) {
        if (e.lengthComputable) {
          bar.value = percent(e.loaded, e.total);
          message.textContent = bar.value + '%';
        }
      });
      xhr.upload.addEventListener('load', function () {
        bar.value = 100;
        message.textContent = '100%';
      });
      xhr.addEventListener('load', function () {
        var type = xhr.getResponseHeader('Content-Type') || '';
        if (xhr.status >= 200 && xhr.status < 300 && type.indexOf('application/json') === 0) {
          var answer = null;
          try { answer = JSON.parse(xhr.responseText); } catch (ignore) { answer = null; }
          if (answer && answer.location) {
            bar.value = 100;
            message.textContent = text(status, 'done');
            window.location.assign(answer.location);
            return;
          }
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          // an answer meant for a page (a sign-in page after a session ended): open it
          window.location.assign(xhr.responseURL || form.action);
          return;
        }
        // refused (400, 403, 409, 413, 415...): show the server's message, keep the form
        var shown = '';
        if (type.indexOf('text/html') === 0) {
          var page = new DOMParser().parseFromString(xhr.responseText, 'text/html');
          // the refusal's message; else an error page's heading and text
          var alert = page.querySelector('main .alert-error') ||
            page.querySelector('main [role="alert"]') || page.querySelector('main .card');
          shown = alert ? alert.textContent.replace(/\s+/g, ' ').trim() : '';
        }
        fail(shown || (xhr.status + ' ' + xhr.statusText));
      });
      xhr.addEventListener('error', function () { fail(text(status, 'failed')); });
      xhr.addEventListener('abort', function () { fail(text(status, 'failed')); });

      function fail(msg) {
        status.hidden = true;
        button.disabled = false;
        showError(msg);
        error.focus();
      }
      xhr.send(new FormData(form));
    });
    error.setAttribute('tabindex', '-1');
  }

  // Exports -------------------------------------------------------------------
  function fileName(response, fallback) {
    var header = response.headers.get('Content-Disposition') || '';
    var found = /filename="?([^";]+)"?/i.exec(header);
    return found ? found[1] : fallback;
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var link = document.createElement('a');
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  function setUpExport(link, status) {
    var bar = status.querySelector('progress');
    var message = status.querySelector('.export-message');
    var busy = false;

    link.addEventListener('click', function (event) {
      if (!window.fetch || !window.ReadableStream || !window.URL || busy) { return; }
      event.preventDefault();
      busy = true;
      link.setAttribute('aria-disabled', 'true');
      status.hidden = false;
      bar.removeAttribute('value');  // indeterminate while the server prepares it
      message.textContent = text(status, 'preparing');

      function done(msg) {
        busy = false;
        link.removeAttribute('aria-disabled');
        message.textContent = msg;
      }

      fetch(link.href, { credentials: 'same-origin' }).then(function (response) {
        var type = response.headers.get('Content-Type') || '';
        if (!response.ok || type.indexOf('text/html') === 0) {
          // a refusal or a page (signed out): let the browser show it as before
          window.location.assign(link.href);
          return null;
        }
        var total = parseInt(response.headers.get('Content-Length'), 10) || 0;
        var name = fileName(response, link.getAttribute('data-export'));
        var reader = response.body.getReader();
        var chunks = [];
        var received = 0;
        message.textContent = text(status, 'downloading');
        if (total) { bar.value = 0; }
        function pump() {
          return reader.read().then(function (step) {
            if (step.done) {
              bar.value = 100;
              save(new Blob(chunks, { type: type }), name);
              done(text(status, 'saved') + ' ' + name);
              return null;
            }
            chunks.push(step.value);
            received += step.value.length;
            if (total) {
              bar.value = percent(received, total);
              message.textContent = text(status, 'downloading') + ' ' + bar.value + '%';
            }
            return pump();
          });
        }
        return pump();
      }).catch(function () {
        status.hidden = false;
        done(text(status, 'failed'));
      });
    });
  }

  document.querySelectorAll('form.attach-form').forEach(setUpAttachForm);
  var exportStatus = document.querySelector('.export-status');
  if (exportStatus) {
    document.querySelectorAll('a[data-export]').forEach(function (link) {
      setUpExport(link, exportStatus);
    });
  }
}());
