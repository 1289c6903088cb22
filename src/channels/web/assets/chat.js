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

  function showMine(text, imageUrl) {
    var div = bubble('me');
    if (imageUrl) { var img = document.createElement('img'); img.src = imageUrl; img.alt = s('photoSent'); div.appendChild(img); }
    if (text) div.appendChild(document.createTextNode(text));
    scroll();
  }

  function showBot(m) {
    var div = bubble('bot');
    div.dataset.seq = m.seq;
    if (m.photo && m.photo.url) { var img = document.createElement('img'); img.src = m.photo.url; img.alt = ''; div.appendChild(img); }
    div.appendChild(document.createTextNode(m.text || ''));
    if ((m.choices && m.choices.length) || m.askLocation) {
      var box = document.createElement('div');
      box.className = 'choices';
      if (m.askLocation && navigator.geolocation) {
        // The browser's own location, when the person allows it; typing a place works too.
        var share = document.createElement('button');
        share.type = 'button';
        share.textContent = m.askLocation;
        share.addEventListener('click', function () {
          navigator.geolocation.getCurrentPosition(function (pos) {
            showMine('📍 ' + pos.coords.latitude.toFixed(5) + ', ' + pos.coords.longitude.toFixed(5));
            send({ location: { latitude: pos.coords.latitude, longitude: pos.coords.longitude } });
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
          b.addEventListener('click', function () { showMine(c.label); send({ choice: c.id }); });
          r.appendChild(b);
        });
        box.appendChild(r);
      });
      div.appendChild(box);
    }
    scroll();
  }

  function fetchMessages() {
    return startSession()
      .then(function () { return fetch('/api/web/messages?after=' + lastSeq, { credentials: 'same-origin' }); })
      .then(checked)
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        statusLine.hidden = true;
        if (data.locale && data.locale !== locale) { locale = data.locale; applyLabels(); }
        data.messages.forEach(function (m) { if (m.seq > lastSeq) { lastSeq = m.seq; showBot(m); } });
      })
      .catch(showOffline);
  }

  function send(body) {
    body.id = randomId(12);
    return startSession()
      .then(function () { return fetch('/api/web/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' }); })
      .then(checked)
      // 429: too many messages; the server put a polite "slow down" in the conversation.
      .then(function (r) {
        if (!r.ok && r.status !== 429) throw new Error(r.status);
        return r.ok ? r.json() : {};
      })
      .then(function (data) {
        // The person's data was erased: show the last answer; the next message starts afresh.
        if (data.ended) { sessionReady = null; (data.messages || []).forEach(showBot); }
      })
      .then(fetchMessages)
      .catch(showOffline);
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
    if (file.size > 10 * 1024 * 1024) { var d = bubble('bot'); d.textContent = s('photoTooBig'); return; }
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
