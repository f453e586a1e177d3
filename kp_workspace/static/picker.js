/* A filter box above long post pickers: <select data-searchable> with more than
   MIN options gets a labelled text box; typing hides the options (and department
   groups) that do not match.  Without this script the select works as it is.
   Labels come from the select's data-filter-label / data-filter-empty attributes
   (translated by the page), so the box speaks the page's language. */
(function () {
  'use strict';
  var MIN = 15;
  var count = 0;

  // lower-case, without combining marks, Arabic and Urdu letter variants folded
  function fold(text) {
    return text.normalize('NFKD').replace(/[\u0300-\u036f\u064b-\u065f\u0670]/g, '')
      .replace(/\u064a/g, '\u06cc').replace(/\u0643/g, '\u06a9').toLocaleLowerCase();
  }

  function attach(select) {
    var options = Array.prototype.filter.call(select.options, function (o) { return o.value; });
    if (options.length <= MIN) { return; }
    count += 1;
    var id = 'picker-filter-' + count;
    var wrap = document.createElement('div');
    wrap.className = 'picker-filter';
    var label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = select.getAttribute('data-filter-label') || 'Find';
    var input = document.createElement('input');
    input.type = 'search';
    input.id = id;
    input.className = 'form-control';
    input.setAttribute('autocomplete', 'off');
    input.setAttribute('dir', 'auto');
    input.setAttribute('aria-controls', select.id);
    var status = document.createElement('small');
    status.className = 'help';
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    wrap.appendChild(label);
    wrap.appendChild(input);
    wrap.appendChild(status);
    select.parentNode.insertBefore(wrap, select);
    var texts = options.map(function (o) {
      var group = o.parentNode.tagName === 'OPTGROUP' ? o.parentNode.label : '';
      return fold(o.text + ' ' + group);
    });

    function filter() {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      options.forEach(function (o, i) {
        var match = words.every(function (w) { return texts[i].indexOf(w) !== -1; });
        o.hidden = !match;
        o.disabled = !match;
        if (match) { shown += 1; }
      });
      Array.prototype.forEach.call(select.querySelectorAll('optgroup'), function (g) {
        g.hidden = !Array.prototype.some.call(g.children, function (o) { return !o.hidden; });
      });
      if (select.selectedOptions.length && select.selectedOptions[0].hidden) {
        select.value = '';
      }
      status.textContent = shown ? '' : (select.getAttribute('data-filter-empty') || '');
      return shown;
    }

    input.addEventListener('input', filter);
    input.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown' || e.key === 'Enter') {
        // Enter picks the first match instead of sending the form half filled
        e.preventDefault();
        var first = options.filter(function (o) { return !o.hidden; })[0];
        if (first && e.key === 'Enter') { select.value = first.value; }
        select.focus();
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll('select[data-searchable]'), attach);
}());
