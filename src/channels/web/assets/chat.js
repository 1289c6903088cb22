// The web chat page: sends what the person types or taps, and shows the bot's replies.
(function () {
  'use strict';
  // The page's strings come in a JSON data element: the CSP allows no inline script.
  var config = JSON.parse(document.getElementById('chat-ui').textContent);
  var ui = config.strings;
  var defaultLocale = config.defaultLocale;
  var locale = defaultLocale;
  var log = document.getElementById('log');
  var form = document.getElementById('composer');
  var input = document.getElementById('text');
  var photo = document.getElementById('photo');
  var statusLine = document.getElementById('status');
  var lastSeq = 0;
  var polling = false;

  function randomId(bytes) {
    var a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  // The session is an HttpOnly cookie the server sets; the page never sees it. Pages from before
  // kept a self-chosen id in localStorage: it is offered to the server once, to carry that
  // conversation over, and then forgotten.
  var LEGACY_KEY = 'chat-session';
  var sessionReady = null;
  function legacyId() { try { return localStorage.getItem(LEGACY_KEY); } catch (e) { return null; } }
  function forgetLegacy() { try { localStorage.removeItem(LEGACY_KEY); } catch (e) { /* storage off */ } }
  function startSession() {
    if (!sessionReady) {
      var body = {};
      var legacy = legacyId();
      if (legacy) body.legacy = legacy;
      sessionReady = fetch('/api/web/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          if (legacy) forgetLegacy();
          if (data.locale && data.locale !== locale) { locale = data.locale; applyLabels(); }
          return data;
        })
        .catch(function (e) { sessionReady = null; throw e; });
    }
    return sessionReady;
  }
  /** A 401 means the session ended (expired, revoked, erased): the next call starts a new one. */
  function checked(r) {
    if (r.status === 401) { sessionReady = null; throw new Error('401'); }
    return r;
  }

  function s(key) { return (ui[locale] && ui[locale][key]) || ui[defaultLocale][key] || key; }
  function applyLabels() {
    document.documentElement.lang = locale;
    document.getElementById('title').textContent = s('title');
    document.getElementById('subtitle').textContent = s('subtitle');
    document.getElementById('photo-text').textContent = s('photo');
    document.getElementById('send').textContent = s('send');
    input.placeholder = s('placeholder');
    statusLine.textContent = s('offline');
  }

  function showOffline() {
    statusLine.textContent = s('offline');
    statusLine.hidden = false;
  }

  function bubble(cls) {
    var div = document.createElement('div');
    div.className = 'msg ' + cls;
    log.appendChild(div);
    return div;
  }
  function scroll() { log.scrollTop = log.scrollHeight; }

  /**
   * New replies are shown from their start: when they are taller than the screen, the page stops
   * at the first one instead of scrolling past it to the bottom (a long text, then its buttons).
   */
  function reveal(first) {
    if (!first) return;
    var bottom = log.scrollHeight - log.clientHeight;
    var start = first.offsetTop - 8;
    log.scrollTop = Math.max(0, Math.min(bottom, start));
  }

  // --- tel: links (test/channels/web/tel-links.test.ts runs this part on its own) ---
  // Phone numbers become tel: links, built as DOM nodes (text never goes through innerHTML).
  // The emergency numbers 111-115 (113 police, 114 fire, 115 ambulance, 112 search and rescue) only
  // where the text offers them to call ("gọi 113", "113 (công an)", "• 112 — Tìm kiếm cứu nạn"), so a
  // house or alley number is never a call to the police.
  var EMERGENCY = /(^|[^\w\/.,-])(11[1-5])(?=\s*[(\u2014\u2013])|((?:gọi|Gọi|GỌI|call|Call|CALL)(?:\s+ngay)?:?\s+)(11[1-5])(?!\w|[\/.,]\d)/g;
  // Other numbers: a Vietnamese phone (0xx or +84, 10-11 digits, spaces or dots between groups), or a 1800/1900 line.
  var PHONE = /(^|[^\w+])((?:\+84|0)\d{2,3}(?:[ .]?\d){6,8}|1[89]00(?:[ .]?\d){4,6})(?!\w|[.,]\d)/g;

  /** [start, end, number] of every phone number in the text, in order, not overlapping. */
  function phoneSpans(text) {
    var spans = [];
    var m;
    EMERGENCY.lastIndex = 0;
    while ((m = EMERGENCY.exec(text))) {
      var number = m[2] || m[4];
      var start = m.index + (m[2] ? m[1].length : m[3].length);
      spans.push([start, start + number.length, number]);
    }
    PHONE.lastIndex = 0;
    while ((m = PHONE.exec(text))) {
      var at = m.index + m[1].length;
      var digits = m[2].replace(/[ .]/g, '');
      var dialled = digits.charAt(0) === '+' ? digits.length === 12 : digits.charAt(0) === '0' ? digits.length === 10 || digits.length === 11 : digits.length >= 8;
      if (dialled) spans.push([at, at + m[2].length, digits]);
    }
    spans.sort(function (a, b) { return a[0] - b[0]; });
    return spans.filter(function (span, i) { return i === 0 || span[0] >= spans[i - 1][1]; });
  }
  // --- end of tel: links ---

  function appendText(parent, text) {
    var from = 0;
    phoneSpans(text).forEach(function (span) {
      if (span[0] > from) parent.appendChild(document.createTextNode(text.slice(from, span[0])));
      var a = document.createElement('a');
      a.className = 'tel';
      a.href = 'tel:' + span[2];
      a.textContent = text.slice(span[0], span[1]);
      parent.appendChild(a);
      from = span[1];
    });
    if (from < text.length) parent.appendChild(document.createTextNode(text.slice(from)));
  }

  /**
   * Buttons of an answered or older question are turned off, so an old tap cannot be taken as an
   * answer to the question asked now. Notifications (alerts, case news) keep theirs: they work whenever pressed.
   */
  function disableChoices(box, picked) {
    Array.prototype.forEach.call(box.querySelectorAll('button'), function (b) {
      b.disabled = true;
      if (b === picked) b.classList.add('picked');
    });
    box.classList.add('answered');
  }
  function disableOlderQuestions(except) {
    Array.prototype.forEach.call(log.querySelectorAll('.msg.bot:not(.notification) .choices:not(.answered)'), function (box) {
      if (box !== except) disableChoices(box);
    });
  }
  function enableChoices(box) {
    Array.prototype.forEach.call(box.querySelectorAll('button'), function (b) { b.disabled = false; b.classList.remove('picked'); });
    box.classList.remove('answered');
  }

  function showMine(text, imageUrl) {
    var div = bubble('me');
    if (imageUrl) { var img = document.createElement('img'); img.src = imageUrl; img.alt = s('photoSent'); div.appendChild(img); }
    if (text) div.appendChild(document.createTextNode(text));
    scroll();
  }

  function showBot(m) {
    var div = bubble('bot');
    div.dataset.seq = m.seq;
    if (m.tone === 'alert') div.classList.add('alert');
    if (m.notification) div.classList.add('notification');
    if (m.photo && m.photo.url) { var img = document.createElement('img'); img.src = m.photo.url; img.alt = ''; div.appendChild(img); }
    appendText(div, m.text || '');
    if ((m.choices && m.choices.length) || m.askLocation) {
      var box = document.createElement('div');
      box.className = 'choices';
      /** A tap: a question's buttons are off from now on (on again if it could not be sent); a notification's stay on. */
      var picked = function (button) {
        if (m.notification) {
          Array.prototype.forEach.call(box.querySelectorAll('button.picked'), function (b) { b.classList.remove('picked'); });
          button.classList.add('picked');
          return function () {};
        }
        disableOlderQuestions(box);
        disableChoices(box, button);
        return function () { enableChoices(box); };
      };
      if (m.askLocation && navigator.geolocation) {
        // The browser's own location, when the person allows it; typing a place works too.
        var share = document.createElement('button');
        share.type = 'button';
        share.textContent = m.askLocation;
        share.addEventListener('click', function () {
          navigator.geolocation.getCurrentPosition(function (pos) {
            var undo = picked(share);
            showMine('📍 ' + pos.coords.latitude.toFixed(5) + ', ' + pos.coords.longitude.toFixed(5));
            send({ location: { latitude: pos.coords.latitude, longitude: pos.coords.longitude } }, undo);
          }, function () { statusLine.textContent = s('locationDenied'); statusLine.hidden = false; });
        });
        box.appendChild(share);
      }
      (m.choices || []).forEach(function (row) {
        var r = document.createElement('div');
        r.className = 'row';
        row.forEach(function (c) {
          var b = document.createElement('button');
          b.type = 'button';
          b.textContent = c.label;
          b.addEventListener('click', function () {
            if (b.disabled) return;
            var undo = picked(b);
            showMine(c.label);
            send({ choice: c.id }, undo);
          });
          r.appendChild(b);
        });
        box.appendChild(r);
      });
      div.appendChild(box);
      // A newer question: the buttons of the earlier ones are of no use any more.
      if (!m.notification) disableOlderQuestions(box);
    }
    return div;
  }

  function fetchMessages() {
    return startSession()
      .then(function () { return fetch('/api/web/messages?after=' + lastSeq, { credentials: 'same-origin' }); })
      .then(checked)
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        statusLine.hidden = true;
        if (data.locale && data.locale !== locale) { locale = data.locale; applyLabels(); }
        var first = null;
        data.messages.forEach(function (m) {
          if (m.seq > lastSeq) { lastSeq = m.seq; var div = showBot(m); first = first || div; }
        });
        reveal(first);
      })
      .catch(showOffline);
  }

  /** Sends a message; `failed` runs when it did not reach the server (a tapped question's buttons come back). */
  function send(body, failed) {
    body.id = randomId(12);
    return startSession()
      .then(function () { return fetch('/api/web/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' }); })
      .then(checked)
      // 429: too many messages; the server put a polite "slow down" in the conversation.
      .then(function (r) {
        if (!r.ok && r.status !== 429) throw new Error(r.status);
        if (!r.ok && failed) failed();
        return r.ok ? r.json() : {};
      })
      .then(function (data) {
        // The person's data was erased: show the last answer; the next message starts afresh.
        if (data.ended) { sessionReady = null; reveal((data.messages || []).map(showBot)[0]); }
      })
      .then(fetchMessages, function () { if (failed) failed(); showOffline(); });
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = '';
    showMine(text);
    send({ text: text });
  });

  photo.addEventListener('change', function () {
    var file = photo.files && photo.files[0];
    photo.value = '';
    if (!file) return;
    if (file.size > 10 * 1024 * 1024) { var d = bubble('bot'); d.textContent = s('photoTooBig'); scroll(); return; }
    showMine('', URL.createObjectURL(file));
    var id = randomId(12);
    startSession()
      .then(function () { return fetch('/api/web/photos?id=' + id, { method: 'POST', headers: { 'content-type': file.type || 'image/jpeg' }, body: file, credentials: 'same-origin' }); })
      .then(checked)
      .then(function (r) {
        // The server refused this photo: say why in the person's language (not "connection lost").
        var why = r.status === 409 ? s('photoNotNow') : r.status === 413 ? s('photoTooBig') : r.status === 415 ? s('photoType') : r.status === 429 ? s('photoTooMany') : '';
        if (why) { var d = bubble('bot'); d.textContent = why; scroll(); return; }
        if (!r.ok) throw new Error(r.status);
      })
      .then(fetchMessages)
      .catch(showOffline);
  });

  function poll() {
    if (polling) return;
    polling = true;
    fetchMessages().then(function () { polling = false; setTimeout(poll, 2000); });
  }

  applyLabels();
  fetchMessages().then(function () {
    // A first visit starts the conversation by itself.
    if (lastSeq === 0) send({ text: '/start' });
    setTimeout(poll, 2000);
  });
})();
